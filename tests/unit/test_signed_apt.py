"""The signed apt repository builders, run through a real shell with apt's
tools replaced by stubs that print what apt prints."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from seedcore import commands, signed_apt
from seedcore.facts.apt import AptRelease, KeyringFingerprints
from tests.harness import make_node
from tests.shell import same_effect

MIRROR = "http://mirror.lab:8080/debian"
FPR = "843A04EB8BB3628CEEDDDB7A4B7DE6A802312008"
ARGS = ("lab-1", MIRROR, "/etc/apt/keyrings/docker.gpg", FPR,
        "docker_apt_key_fingerprint", "docker_apt_url")
SIGNATURE_LINE = (
    "host lab-1: apt could not verify http://mirror.lab:8080/debian with the key "
    "843A04EB8BB3628CEEDDDB7A4B7DE6A802312008 in /etc/apt/keyrings/docker.gpg "
    "(docker_apt_key_fingerprint): nothing was installed from it; sign the mirror with that "
    "key, or set docker_apt_key_fingerprint to the key the mirror is signed with"
)
# What apt 2.6 (Debian 12) prints for each way a signature can fail.
NO_PUBKEY = [
    f"Get:1 {MIRROR} bookworm InRelease [3120 B]",
    f"W: GPG error: {MIRROR} bookworm InRelease: The following signatures couldn't be verified "
    "because the public key is not available: NO_PUBKEY 4B7DE6A802312008",
    f"E: The repository '{MIRROR} bookworm InRelease' is not signed.",
]
BADSIG = [
    f"W: GPG error: {MIRROR} bookworm InRelease: The following signatures were invalid: "
    "BADSIG 4B7DE6A802312008 Test Mirror <m@example.invalid>",
    "W: An error occurred during the signature verification. The repository is not updated "
    "and the previous index files will be used.",
]
OTHER_SOURCE = [
    "W: GPG error: http://elsewhere.example/debian bookworm InRelease: NO_PUBKEY 0123456789ABCDEF",
]


def _run(command: str, tmp_path: Path, apt_output: list[str], apt_status: int):
    stub = tmp_path / "bin"
    stub.mkdir(exist_ok=True)
    (tmp_path / "apt.out").write_text("\n".join(apt_output) + "\n")
    script = stub / "apt-get"
    script.write_text(f"#!/bin/sh\ncat {tmp_path / 'apt.out'}\nexit {apt_status}\n")
    script.chmod(0o755)
    env = {**os.environ, "PATH": f"{stub}:{os.environ['PATH']}"}
    return subprocess.run(["sh", "-c", command], capture_output=True, text=True, env=env)


@pytest.mark.parametrize("output, status", [(NO_PUBKEY, 100), (BADSIG, 0)])
def test_a_signature_that_does_not_verify_is_one_line_and_a_failure(tmp_path, output, status):
    # BADSIG: apt itself only warns and exits 0, keeping the old lists.
    done = _run(signed_apt.checked_update(*ARGS), tmp_path, output, status)
    assert done.returncode == 1
    assert done.stderr == SIGNATURE_LINE + "\n"
    assert done.stdout == ""


def test_another_sources_failure_is_apts_own_and_keeps_its_status(tmp_path):
    done = _run(signed_apt.checked_update(*ARGS), tmp_path, OTHER_SOURCE, 100)
    assert done.returncode == 100
    assert done.stderr == "\n".join(OTHER_SOURCE) + "\n"


def test_a_clean_update_passes_quietly(tmp_path):
    done = _run(signed_apt.checked_update(*ARGS), tmp_path, [f"Hit:1 {MIRROR} bookworm InRelease"], 0)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_fingerprints_are_compared_as_gpg_spells_them():
    assert signed_apt.normalise_fingerprint("843a 04eb 8bb3 628c eedd  db7a 4b7d e6a8 0231 2008") == FPR
    with pytest.raises(ValueError):
        signed_apt.fetch_key("h", "u", "/k", "12;rm -rf /", "docker_apt_key_fingerprint", "docker_apt_url")


def test_keyring_fact_reads_primary_keys_only():
    lines = [
        "pub:-:255:22:4B7DE6A802312008:1795707745:::-:::scSC:::::ed25519:::0:",
        f"fpr:::::::::{FPR}:",
        "uid:-::::1795707745::178F::Test Mirror <m@example.invalid>::::::::::0:",
        "sub:-:255:18:1111222233334444:1795707745::::::e:::::cv25519::",
        "fpr:::::::::AAAABBBBCCCCDDDDEEEEFFFF1111222233334444:",
    ]
    assert KeyringFingerprints().process(lines) == [FPR]
    assert "[ -f /etc/apt/keyrings/docker.gpg ]" in KeyringFingerprints().command(
        "/etc/apt/keyrings/docker.gpg")


def test_release_fact_reads_codename_and_architectures():
    fact = AptRelease()
    assert fact.process(["Origin: Debian", "Codename: trixie", "Architectures: amd64 arm64",
                         "Components: stable", "MD5Sum:", " 0123 99 stable/binary-amd64/Packages"]) == {
        "fetched": True, "codename": "trixie", "suite": "", "architectures": ["amd64", "arm64"],
        "components": ["stable"],
    }
    assert fact.process(["SEEDCORE_RELEASE_FETCH_FAILED Failed to fetch http://m/x  404  Not Found"]) == {
        "fetched": False, "error": "Failed to fetch http://m/x  404  Not Found",
    }


@pytest.fixture
def gnupg_home(tmp_path):
    """A throwaway gpg home; the agent gpg starts for it is stopped afterwards."""
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    yield home
    if shutil.which("gpgconf"):
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], capture_output=True, timeout=30)


@pytest.mark.skipif(not shutil.which("gpg"), reason="gpg is not installed on this machine")
def test_fetch_key_stores_exactly_the_expected_key_and_refuses_anything_else(tmp_path, gnupg_home):
    home = gnupg_home
    gpg = ["gpg", "--homedir", str(home), "--batch", "--passphrase", ""]
    for name in ("Mirror", "Intruder"):
        subprocess.run([*gpg, "--quick-gen-key", f"{name} <{name}@example.invalid>", "ed25519",
                        "sign", "never"], check=True, capture_output=True)
    listing = subprocess.run([*gpg, "--with-colons", "--list-keys"], check=True, capture_output=True,
                             text=True).stdout.splitlines()
    fingerprints = signed_apt.primary_fingerprints(listing)
    served = tmp_path / "served.asc"
    helper = tmp_path / "apt-helper"
    helper.write_text(f'#!/bin/sh\ncp {served} "$3"\n')
    helper.chmod(0o755)
    keyring = tmp_path / "keyrings" / "docker.gpg"

    def serve(*fingerprints_served):
        exported = subprocess.run([*gpg, "--armor", "--export", *fingerprints_served], check=True,
                                  capture_output=True).stdout
        served.write_bytes(exported)

    def fetch(fingerprint):
        command = signed_apt.fetch_key("lab-1", f"{MIRROR}/gpg", str(keyring), fingerprint,
                                       "docker_apt_key_fingerprint", "docker_apt_url")
        return subprocess.run(["sh", "-c", command.replace(signed_apt.APT_HELPER, str(helper))],
                              capture_output=True, text=True)

    def refusal(fingerprint, found):
        return (
            f"host lab-1: the key at {MIRROR}/gpg is not exactly docker_apt_key_fingerprint="
            f"{fingerprint} (it has: {found}): nothing was stored and nothing installed from it; "
            "set docker_apt_key_fingerprint to the mirror's real key, or fix docker_apt_url\n"
        )

    serve(fingerprints[0])
    wrong = fetch("0" * 40)
    assert wrong.returncode == 1 and not keyring.exists()
    assert wrong.stderr == refusal("0" * 40, fingerprints[0])
    # A download holding the expected key and another one is refused too.
    serve(*fingerprints)
    both = fetch(fingerprints[0])
    assert both.returncode == 1 and not keyring.exists()
    assert both.stderr == refusal(fingerprints[0], " ".join(fingerprints))
    serve(fingerprints[0])
    done = fetch(fingerprints[0])
    assert done.returncode == 0, done.stderr
    stored = subprocess.run(["gpg", "--show-keys", "--with-colons", str(keyring)], check=True,
                            capture_output=True, text=True).stdout.splitlines()
    assert signed_apt.primary_fingerprints(stored) == [fingerprints[0]]
    # apt reads a binary keyring from a .gpg file.
    assert not keyring.read_bytes().startswith(b"-----BEGIN")


@pytest.mark.parametrize("cli", [commands.COMPOSE_V1, commands.COMPOSE_V2])
def test_compose_up_leaves_the_wait_to_the_nodes_healthy_wait(cli):
    """No `--wait`: Compose would wait on Docker's own 5 s health checks; the
    healthy wait asks every second, the same way on v1 and v2."""
    command = commands.compose_up(cli, make_node())
    assert same_effect(command, f"cd /opt/seedcore && {cli} -f docker-compose.yml -p seedcore --profile ray "
                                "up -d --remove-orphans")

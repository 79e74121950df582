"""The lab's hosts behave like freshly provisioned servers, of two Debian
releases, and the lab's apt mirror answers them like Docker's repository."""

import json
import shlex
import subprocess
import tempfile
from pathlib import Path

import paramiko
import pytest

from lab import control as labctl
from lab import mirror as lab_mirror

pytestmark = pytest.mark.e2e


def test_every_host_answers_ssh_as_the_non_root_user_with_sudo(lab_state):
    assert len(lab_state["hosts"]) >= 2
    for host in lab_state["hosts"]:
        code, out = labctl.run_on(lab_state, host, "id -un; sudo -n id -u")
        assert code == 0, f"{host['name']}: {out}"
        assert out.split() == [lab_state["ssh_user"], "0"], host["name"]


def test_root_login_is_refused(lab_state):
    host = lab_state["hosts"][0]
    client = paramiko.SSHClient()
    client.load_host_keys(lab_state["known_hosts"])
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    with pytest.raises(paramiko.AuthenticationException):
        client.connect(host["ip"], username="root", key_filename=lab_state["ssh_key"],
                       look_for_keys=False, allow_agent=False, timeout=15)
    client.close()


def test_lab_status_lists_every_host_with_ssh_up(lab_state):
    result = labctl.lab("status", "--json")
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    hosts = listed["hosts"] if isinstance(listed, dict) else listed
    assert {h["name"] for h in hosts} == {h["name"] for h in lab_state["hosts"]}
    assert all(h["ssh"] for h in hosts), hosts
    # Each host's release and Docker source, as `up` recorded them.
    assert [(h["name"], h["distro"], h["install_source"]) for h in hosts] == [
        (h["name"], h["distro"], h["install_source"]) for h in lab_state["hosts"]
    ]


def test_the_lab_is_mixed_hosts_of_both_releases_and_both_docker_sources(lab_state):
    assert {h["distro"] for h in lab_state["hosts"]} == {"bookworm", "trixie"}
    assert {h["distro"] for h in lab_state["hosts"] if h["role"] == "worker"} == {"bookworm", "trixie"}
    assert {h["install_source"] for h in lab_state["hosts"]} == {"distro", "docker"}


def test_each_host_runs_the_debian_release_the_lab_recorded(lab_state):
    versions = {"bookworm": "12", "trixie": "13"}
    for host in lab_state["hosts"]:
        code, out = labctl.run_on(
            lab_state, host, ". /etc/os-release; echo $ID $VERSION_ID $VERSION_CODENAME"
        )
        assert code == 0, f"{host['name']}: {out}"
        assert out.split() == ["debian", versions[host["distro"]], host["distro"]], host["name"]


def _fetch_on(lab_state: dict, host: dict, url: str) -> str:
    """GET `url` from the lab host itself (python3; bare hosts have no curl)."""
    script = (
        "import sys, urllib.request; "
        "sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())"
    )
    code, out = labctl.run_on(lab_state, host, f"python3 -c {shlex.quote(script)} {shlex.quote(url)}")
    assert code == 0, f"{host['name']}: GET {url}: {out}"
    return out


def _valid_signer(key: str, signed: str) -> str:
    """The fingerprint gpgv reports a good signature from, `key` being the only trusted key."""
    with tempfile.TemporaryDirectory() as work:
        keyring = Path(work, "key.gpg")
        subprocess.run(
            ["gpg", "--batch", "--dearmor", "--output", str(keyring)], input=key.encode(), check=True
        )
        Path(work, "InRelease").write_text(signed)
        checked = subprocess.run(
            ["gpgv", "--status-fd", "1", "--keyring", str(keyring), str(Path(work, "InRelease"))],
            capture_output=True, text=True,
        )
    assert checked.returncode == 0, checked.stderr
    valid = [line.split()[2] for line in checked.stdout.splitlines() if line.startswith("[GNUPG:] VALIDSIG ")]
    assert len(valid) == 1, checked.stdout
    return valid[0]


def test_the_apt_mirror_answers_each_release_from_its_hosts_signed_by_the_labs_key(lab_state):
    mirror = lab_state["apt_mirror"]
    for distro in ("bookworm", "trixie"):
        host = next(h for h in lab_state["hosts"] if h["distro"] == distro)
        key = _fetch_on(lab_state, host, f"{mirror['url']}/debian/gpg")
        assert key.startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----\n"), key[:80]
        release = _fetch_on(lab_state, host, f"{mirror['url']}/debian/dists/{distro}/Release")
        fields = dict(line.split(": ", 1) for line in release.splitlines() if ": " in line and line[0] != " ")
        assert (fields["Codename"], fields["Components"], fields["Architectures"]) == (
            distro, "stable", "amd64"
        )
        packages = _fetch_on(
            lab_state, host, f"{mirror['url']}/debian/dists/{distro}/stable/binary-amd64/Packages"
        )
        names = {line.split(": ", 1)[1] for line in packages.splitlines() if line.startswith("Package: ")}
        assert {"docker.io", "docker-compose", "containerd", "runc"} <= names, sorted(names)
        # docker.io and docker-compose at the versions only the mirror has, as the state records them.
        # (published_versions refuses an index whose versions lack the mirror's suffix.)
        assert lab_mirror.published_versions(distro, packages) == mirror["versions"][distro]
        assert all(version.endswith("+seedcore.lab1") for version in mirror["versions"][distro].values())
        signed = _fetch_on(lab_state, host, f"{mirror['url']}/debian/dists/{distro}/InRelease")
        assert _valid_signer(key, signed) == mirror["key_fingerprint"]

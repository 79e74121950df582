"""Facts about apt repositories: the keys in a keyring, what a repository's
Release file says it carries, whether wanted packages are installed, and which
packages apt holds."""

import shlex

from pyinfra.api import FactBase

from seedcore.signed_apt import APT_HELPER, primary_fingerprints

FETCH_FAILED = "SEEDCORE_RELEASE_FETCH_FAILED"


def missing_packages(installed: dict, wanted: list[str]) -> list[str]:
    """Those of `wanted` ("name" or "name=version") not installed as asked, in
    `installed` as pyinfra's DebPackages fact gives it."""
    missing = []
    for package in wanted:
        name, _, version = package.partition("=")
        versions = installed.get(name) or []
        if not versions or (version and version not in versions):
            missing.append(package)
    return missing


def packages_missing(installed: dict, wanted: list[str]) -> bool:
    """Whether any of `wanted` is not installed as asked."""
    return bool(missing_packages(installed, wanted))


class KeyringFingerprints(FactBase):
    """
    The primary key fingerprints in an apt keyring file; empty when the file is
    absent or gpg is not installed yet.

    + path: the keyring file
    """

    @staticmethod
    def default():
        return []

    def command(self, path: str) -> str:
        keyring = shlex.quote(path)
        return (
            f"if [ -f {keyring} ] && command -v gpg >/dev/null 2>&1; then "
            f"gpg --batch --show-keys --with-colons {keyring} 2>/dev/null; fi; true"
        )

    def process(self, output):
        return primary_fingerprints(list(output))


class AptRelease(FactBase):
    """
    What a repository's ``Release`` file says, fetched on the host itself with
    apt's ``apt-helper`` (through the host's apt proxy settings, as apt would).

    Returns ``{"fetched": True, "codename": str, "suite": str,
    "architectures": [str], "components": [str]}``, or ``{"fetched": False,
    "error": str}`` with apt's own error when the file cannot be fetched.

    + url: the Release file's URL (``<repository>/dists/<codename>/Release``)
    """

    def command(self, url: str) -> str:
        return (
            'tmp=$(mktemp -d) || exit 1; '
            f'if {APT_HELPER} download-file {shlex.quote(url)} "$tmp/Release" >"$tmp/log" 2>&1; '
            'then cat "$tmp/Release"; '
            f"else echo \"{FETCH_FAILED} $(grep -m1 '^E: ' \"$tmp/log\" | cut -c4-)\"; fi; "
            'rm -rf "$tmp"'
        )

    def process(self, output):
        lines = list(output)
        if lines and lines[0].startswith(FETCH_FAILED):
            error = lines[0][len(FETCH_FAILED):].strip()
            return {"fetched": False, "error": error or "no answer"}
        fields = {}
        for line in lines:
            if not line or line[0].isspace() or ":" not in line:
                continue
            key, _, value = line.partition(":")
            fields.setdefault(key.strip().lower(), value.strip())
        return {
            "fetched": True,
            "codename": fields.get("codename", ""),
            "suite": fields.get("suite", ""),
            "architectures": fields.get("architectures", "").split(),
            "components": fields.get("components", "").split(),
        }


class HeldPackages(FactBase):
    """
    The packages apt holds (``apt-mark showhold``): neither ``apt-get upgrade`` nor
    ``apt-get install --only-upgrade`` moves them. Sorted names; empty when none is held.
    """

    @staticmethod
    def default():
        return []

    def command(self) -> str:
        return "apt-mark showhold"

    def process(self, output):
        return sorted({line.strip() for line in output if line.strip()})

"""Give the apt mirror's Docker packages a version only the mirror has.

Debian's archive carries the very versions the mirror downloads, and lab hosts
list both, so apt could take the files from either. Repacked as
`<debian version>+seedcore.lab1`, docker.io and docker-compose exist only on
the mirror: a host that runs that version got it from the mirror, and a pin on
it is honoured or the install fails. `+` sorts after the end of a version, so
the repacked version is also the newest candidate.

Run while the mirror image is built, in each release's stage (python3, dpkg-deb;
standard library only, no `lab` imports):

    python3 repack.py /debs

Only the control file changes (Version, and an exact `(= version)` relation on a
repacked package, whose holder is then repacked too); every dependency stays as is.
"""

import re
import subprocess
import sys
import tempfile
from pathlib import Path

SUFFIX = "+seedcore.lab1"
# Packages repacked whatever depends on them.
REPACKED = ("docker.io", "docker-compose")
# The relation fields an exact pin in would stop a repacked package from installing.
PIN_FIELDS = ("Pre-Depends", "Depends", "Recommends")

_FIELD = re.compile(r"^([A-Za-z0-9][A-Za-z0-9-]*):[ \t]?(.*)$")
_RELATION = re.compile(
    r"(?P<name>[a-z0-9][a-z0-9.+-]*)(?P<arch>:[a-z0-9-]+)?\s*\(\s*=\s*(?P<version>[^)\s]+)\s*\)"
)


def suffixed(version: str) -> str:
    """The mirror's own version of a Debian version; already suffixed ones are kept."""
    if not version or any(c.isspace() for c in version):
        raise ValueError(f"not a package version: {version!r}")
    return version if version.endswith(SUFFIX) else version + SUFFIX


def fields(control: str) -> dict[str, str]:
    """A control paragraph's fields, continuation lines joined with newlines."""
    parsed: dict[str, str] = {}
    current = ""
    for line in control.splitlines():
        if line[:1] in (" ", "\t") and current:
            parsed[current] += "\n" + line
            continue
        match = _FIELD.match(line)
        if match:
            current = match.group(1)
            parsed[current] = match.group(2)
    return parsed


def exact_pins(control: str) -> dict[str, str]:
    """name -> version of every `name (= version)` relation in PIN_FIELDS."""
    paragraph = fields(control)
    return {
        match.group("name"): match.group("version")
        for field in PIN_FIELDS
        for match in _RELATION.finditer(paragraph.get(field, ""))
    }


def rewritten(control: str, version: str, repins: dict[str, tuple[str, str]]) -> str:
    """`control` with Version set to `version` and, in PIN_FIELDS, every
    `name (= old)` of `repins` (name -> (old, new)) pinned to new instead."""
    out = []
    current = ""
    for line in control.splitlines(keepends=True):
        match = _FIELD.match(line.rstrip("\n"))
        if line[:1] not in (" ", "\t") and match:
            current = match.group(1)
            if current == "Version":
                out.append(f"Version: {version}\n")
                continue
        if current in PIN_FIELDS:
            line = _RELATION.sub(lambda m: _repinned(m, repins), line)
        out.append(line)
    return "".join(out)


def _repinned(match: re.Match, repins: dict[str, tuple[str, str]]) -> str:
    old, new = repins.get(match.group("name"), ("", ""))
    if match.group("version") != old:
        return match.group(0)
    return f"{match.group('name')}{match.group('arch') or ''} (= {new})"


def plan(controls: dict[str, str]) -> dict[str, str]:
    """key -> new control for each package to repack, given key -> control of a
    set of packages: REPACKED, and whatever pins one repacked exactly."""
    packages = {key: fields(control) for key, control in controls.items()}
    repins: dict[str, tuple[str, str]] = {}
    chosen: set[str] = set()
    while True:
        more = {
            key
            for key, control in controls.items()
            if key not in chosen
            and (
                packages[key]["Package"] in REPACKED
                or any(repins.get(name, ("",))[0] == pinned for name, pinned in exact_pins(control).items())
            )
        }
        if not more:
            break
        chosen |= more
        for key in more:
            old = packages[key]["Version"]
            repins[packages[key]["Package"]] = (old, suffixed(old))
    missing = set(REPACKED) - {packages[key]["Package"] for key in chosen}
    if missing:
        raise ValueError(f"the package set has no {', '.join(sorted(missing))}")
    return {
        key: rewritten(controls[key], repins[packages[key]["Package"]][1], repins)
        for key in sorted(chosen)
    }


def deb_name(control: str) -> str:
    """Debian's file name for a package: name_version-without-epoch_arch.deb."""
    paragraph = fields(control)
    version = paragraph["Version"].split(":", 1)[-1]
    return f"{paragraph['Package']}_{version}_{paragraph['Architecture']}.deb"


def _run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def main(directory: str) -> None:
    debs = sorted(Path(directory).glob("*.deb"))
    controls = {str(deb): _run("dpkg-deb", "--info", str(deb), "control") for deb in debs}
    for key, control in plan(controls).items():
        old = Path(key)
        with tempfile.TemporaryDirectory(dir=directory) as work:
            tree = Path(work, "tree")
            _run("dpkg-deb", "-R", str(old), str(tree))
            (tree / "DEBIAN" / "control").write_text(control)
            new = Path(directory, deb_name(control))
            _run("dpkg-deb", "-Zgzip", "-b", str(tree), str(new))
        old.unlink()
        print(f"{old.name} -> {new.name}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: repack.py DIRECTORY-OF-DEBS")
    main(sys.argv[1])

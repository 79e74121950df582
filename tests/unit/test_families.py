"""The OS-family seam: every family is an OsFamily, and what is apt's, dpkg's,
dnf's or a distribution's own stays in seedcore/families/."""

import ast
import inspect
import re
from pathlib import Path

import pytest

from seedcore.families import FAMILIES, OsFamily, family_for
from seedcore.families.debian import DEBIAN
from seedcore.families.rpm import RPM

REPO = Path(__file__).resolve().parents[2]

# Modules that name a package manager's own tools, files or facts, by what
# they are for. Each is imported only from seedcore/families/ (or from another
# of them), which test_the_family_helpers_are_reached_only_through_a_family checks.
FAMILY_HELPERS = {
    "seedcore/signed_apt.py": "the Debian family's signed-repository command lines",
    "seedcore/operations/signed_apt.py": "the Debian family's signed-repository operations",
    "seedcore/facts/apt.py": "the Debian family's facts (keyring fingerprints, Release files)",
    "seedcore/operations/system.py": "its package step is apt's, called only by families/debian.py",
}
# Modules that list fact classes by name, the Debian family's among them, but decide nothing with them.
ALLOWED = {
    **FAMILY_HELPERS,
    "seedcore/pyinfra_seam.py": "pyinfra's private apt helpers, used only by the family helpers above",
    "seedcore/facts/bundle.py": "the snapshot's list of the fact classes a bundle may carry",
    "seedcore/hostfacts.py": "the snapshot's list of the fact classes re-read after a change",
    "seedcore/defaults.py": "data keys' defaults: docker_distro_packages names Debian's docker.io",
}

FORBIDDEN_MODULES = re.compile(
    r"^(pyinfra\.(facts|operations)\.(apt|deb|dnf|yum|rpm)|seedcore\.(signed_apt|facts\.apt|"
    r"operations\.signed_apt|families\.(debian|rpm)))$")
FORBIDDEN_NAMES = {"apt", "deb", "dnf", "yum", "rpm", "DebPackages", "DebArch", "AptSources", "AptRelease",
                   "KeyringFingerprints", "HeldPackages", "RpmPackages", "noninteractive_apt", "apt_repos"}
# In a string a command line, a path or a package name is built from (docstrings and comments are prose).
FORBIDDEN_TEXT = re.compile(
    r"\bapt(-get|-helper|-cache|-key)?\b|\bdpkg|\bdnf\b|\byum\b|\brpm\b|/etc/apt|/etc/default/|/etc/sysconfig|"
    r"sites-enabled|www-data|/deb/|\.deb\b|"
    # Package names one family has and the other has not (both call nftables and nginx so).
    r"^(redis-server|redis|docker\.io|moby-engine|iproute2?|procps(-ng)?|gpg|gnupg2|golang-github-prometheus)$")
# Where a name must stay as it is, with the reason: {(path, text): reason}.
ALLOWED_TEXT = {
    ("seedcore/tasks/preflight.py", "redis-server"):
        "the process name `ss` shows for Redis' port: the binary's name in every family",
}


def _docstrings(tree) -> set[int]:
    """The ids of the string nodes that are docstrings."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def family_names(path: Path, relative: str) -> list[str]:
    """What in `path` names a package manager's or a distribution's own things."""
    tree = ast.parse(path.read_text(), str(path))
    docstrings = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"imports {a.name}" for a in node.names if FORBIDDEN_MODULES.match(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if FORBIDDEN_MODULES.match(node.module):
                found.append(f"imports {node.module}")
            found += [f"imports {node.module}.{a.name}" for a in node.names
                      if FORBIDDEN_MODULES.match(f"{node.module}.{a.name}") or a.name in FORBIDDEN_NAMES]
        elif isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            found.append(f"names {node.id} (line {node.lineno})")
        elif isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_NAMES:
            found.append(f"names .{node.attr} (line {node.lineno})")
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
              and FORBIDDEN_TEXT.search(node.value) and (relative, node.value) not in ALLOWED_TEXT):
            found.append(f"says {node.value!r} (line {node.lineno})")
    return found


def product_modules():
    for package in ("seedcore", "deploy"):
        for path in sorted((REPO / package).rglob("*.py")):
            yield path, path.relative_to(REPO).as_posix()


def test_apt_dnf_and_distribution_names_stay_in_the_families():
    offenders = [
        f"{relative} {what}"
        for path, relative in product_modules()
        if not relative.startswith("seedcore/families/") and relative not in ALLOWED
        for what in family_names(path, relative)
    ]
    assert offenders == []


def test_the_family_helpers_are_reached_only_through_a_family():
    helpers = {relative.removesuffix(".py").replace("/", ".") for relative in FAMILY_HELPERS}
    offenders = []
    for path, relative in product_modules():
        if relative.startswith("seedcore/families/") or relative in ALLOWED:
            continue
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
                     if isinstance(node, ast.ImportFrom) and node.module else [])
            offenders += [f"{relative} imports {name}" for name in names
                          if name in helpers and name != "seedcore.operations.system"]
    assert offenders == []


def test_the_scan_sees_apt_and_dpkg_where_they_do_not_belong(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text(
        '"""Docstrings may speak of apt."""\n'
        "from pyinfra.facts.deb import DebPackages\n"
        "from pyinfra.operations import apt\n"
        "import seedcore.families.debian\n"
        "PACKAGES = ['redis-server']\n"
        "SITE = '/etc/nginx/sites-enabled/default'\n"
        "def f(host):\n"
        "    return host.get_fact(DebPackages), 'dpkg -l'\n"
    )
    found = family_names(planted, "planted.py")
    assert "imports pyinfra.facts.deb" in found
    assert "imports pyinfra.operations.apt" in found
    assert "imports seedcore.families.debian" in found
    assert "says 'redis-server' (line 5)" in found
    assert "says '/etc/nginx/sites-enabled/default' (line 6)" in found
    assert "says 'dpkg -l' (line 8)" in found
    assert not any("Docstrings" in line for line in found)


@pytest.mark.parametrize("family", FAMILIES, ids=lambda family: family.name)
def test_every_family_is_an_os_family_with_the_protocols_signatures(family):
    assert isinstance(family, OsFamily)
    members = [name for name, value in vars(OsFamily).items()
               if inspect.isfunction(value) and not name.startswith("_")]
    assert members, "the protocol lists its methods"
    for name in members:
        wanted = list(inspect.signature(getattr(OsFamily, name)).parameters)[1:]
        assert list(inspect.signature(getattr(family, name)).parameters) == wanted, name
    for name in OsFamily.__annotations__:
        assert hasattr(family, name), name


def test_a_family_missing_a_method_is_no_os_family():
    class Half:
        name = "half"
        serves_text = "nothing"
        supported = False
        layout = DEBIAN.layout

        def serves(self, facts):
            return False

    assert not isinstance(Half(), OsFamily)


def _release(distro_id: str, like: str = "", version: str = "") -> dict:
    return {"release_meta": {"ID": distro_id, "ID_LIKE": like, "VERSION_ID": version}}


@pytest.mark.parametrize("facts, family", [
    (_release("debian", version="12"), DEBIAN),
    (_release("ubuntu", "debian", "24.04"), DEBIAN),
    (_release("linuxmint", "ubuntu debian"), DEBIAN),
    (_release("rocky", "rhel centos fedora", "9.4"), RPM),
    (_release("almalinux", "rhel centos fedora", "9.4"), RPM),
    (_release("fedora", version="40"), RPM),
    (_release("alpine", version="3.20.1"), None),
])
def test_each_distribution_is_served_by_its_family(facts, family):
    assert family_for(facts) is family


def test_only_the_debian_family_runs_for_real():
    assert [family.name for family in FAMILIES if family.supported] == ["Debian family"]

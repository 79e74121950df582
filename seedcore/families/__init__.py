"""The OS families the deploy installs on, one module per family (as an
Ansible role keeps one task file per family). Each module's family object
satisfies `OsFamily` (seedcore/families/base.py); jobs and operations reach a
host's family only through `family_of(host)`. Adding a family is one new
module whose object is listed in FAMILIES."""

from pyinfra.facts.server import LinuxDistribution

from seedcore.facts.bundle import BUNDLEABLE
from seedcore.families.base import Layout, OsFamily
from seedcore.families.debian import DEBIAN
from seedcore.families.os_release import distro_of
from seedcore.families.rpm import RPM
from seedcore.hostfacts import read_fact
from seedcore.validate import InventoryError

FAMILIES: tuple[OsFamily, ...] = (DEBIAN, RPM)

__all__ = ["FAMILIES", "Layout", "OsFamily", "family_for", "family_of", "family_problems",
           "install_reads", "layouts", "package_reads", "release_reads", "unsupported_line"]


def family_for(facts: dict | None) -> OsFamily | None:
    """The family serving a host with these LinuxDistribution facts, or None."""
    return next((family for family in FAMILIES if family.serves(facts or {})), None)


def no_family_problem(facts: dict | None) -> str:
    facts = facts or {}
    distro_id, _ = distro_of(facts)
    meta = facts.get("release_meta") or {}
    name = distro_id or "an unknown distribution"
    if meta.get("VERSION_ID"):
        name += f" {meta['VERSION_ID']}"
    served = "; ".join(family.serves_text for family in FAMILIES)
    return (
        f"{name} is not served: the deploy serves {served}; "
        "move the node to such a host or take this host out of the inventory"
    )


def unsupported_line(host) -> str | None:
    """One line naming `host` when its family plans but is not supported yet, else None."""
    facts = read_fact(host, LinuxDistribution)
    family = family_for(facts)
    if family is None or family.supported:
        return None
    distro_id, _ = distro_of(facts)
    version = ((facts or {}).get("release_meta") or {}).get("VERSION_ID", "")
    runs = " ".join(part for part in (distro_id or "an unknown distribution", version) if part)
    return (
        f"host {host.name} runs {runs} ({family.name}): planned but not supported yet; "
        "--dry shows its plan, a run without --dry changes no host while it is in the inventory"
    )


def family_problems(host, settings: dict, node: bool = True) -> list[str]:
    """Preflight, from facts only: what stops this host's family from serving it
    (each line without the host's name). A family not supported yet is
    `unsupported_line`'s; the repositories are checked only where a Ray node
    installs from them (`node`)."""
    facts = read_fact(host, LinuxDistribution)
    family = family_for(facts)
    if family is None:
        return [no_family_problem(facts)]
    if not family.supported or not node:
        return []
    return family.preflight_problems(host, settings, facts)


def release_reads(host, settings: dict) -> list:
    """The repository files preflight reads on `host` (none for a host no family serves)."""
    facts = read_fact(host, LinuxDistribution)
    family = family_for(facts)
    return family.release_reads(host, settings, facts) if family else []


def install_reads(settings: dict, gpu: bool = False) -> list:
    """The facts every family's install steps read (for a host's bundle, read
    before its family is known)."""
    return [read for family in bundled() for read in family.install_reads(settings, gpu)]


def bundled() -> tuple[OsFamily, ...]:
    """The families whose facts a host's bundle reads: a bundle is read before
    the host's family is known, so it holds what each family's steps read. Only
    supported families': a family that only plans reads its facts when asked."""
    return tuple(family for family in FAMILIES if family.supported)


def package_reads() -> list:
    """The facts a host's installed packages are read from, for its bundle."""
    return [read for family in bundled() for read in family.package_reads() if read[0].__name__ in BUNDLEABLE]


def layouts() -> tuple[Layout, ...]:
    """The layouts whose files and services a host's bundle reads."""
    return tuple(family.layout for family in bundled())


def family_of(host) -> OsFamily:
    """The family serving `host`; preflight has refused every host without one."""
    facts = read_fact(host, LinuxDistribution)
    family = family_for(facts)
    if family is None:
        raise InventoryError(f"host {host.name}: {no_family_problem(facts)}")
    return family

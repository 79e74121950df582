"""Per-OS-family choices, one module per family (as an Ansible role keeps one
task file per family): which hosts it serves, what preflight checks on them,
how Docker and a signed repository are installed. Adding a family (dnf, say)
is one new module listed in FAMILIES."""

from pyinfra.facts.server import LinuxDistribution

from seedcore.families import debian
from seedcore.families.os_release import distro_of
from seedcore.hostfacts import read_fact
from seedcore.validate import InventoryError

FAMILIES = (debian,)


def family_for(facts: dict | None):
    """The family module serving a host with these LinuxDistribution facts, or None."""
    return next((family for family in FAMILIES if family.serves(facts or {})), None)


def no_family_problem(facts: dict | None) -> str:
    facts = facts or {}
    distro_id, _ = distro_of(facts)
    meta = facts.get("release_meta") or {}
    name = distro_id or "an unknown distribution"
    if meta.get("VERSION_ID"):
        name += f" {meta['VERSION_ID']}"
    served = "; ".join(family.SERVES for family in FAMILIES)
    return (
        f"{name} is not served: the deploy installs with apt and serves {served}; "
        "move the node to such a host or take this host out of the inventory"
    )


def family_problems(host, settings: dict) -> list[str]:
    """Preflight, from facts only: what stops this host's family from serving it."""
    facts = read_fact(host, LinuxDistribution)
    family = family_for(facts)
    if family is None:
        return [no_family_problem(facts)]
    return family.preflight_problems(host, settings, facts)


def release_reads(host, settings: dict) -> list:
    """The Release files preflight reads on `host` (none for a host no family serves)."""
    facts = read_fact(host, LinuxDistribution)
    family = family_for(facts)
    return family.release_reads(host, settings, facts) if family else []


def install_reads(settings: dict, keyrings: tuple = ()) -> list:
    """The facts every family's install steps read (for a host's bundle, read
    before its family is known)."""
    return [read for family in FAMILIES for read in family.install_reads(settings, keyrings)]


def host_family(host):
    """The family serving `host`; preflight has refused every host without one."""
    facts = read_fact(host, LinuxDistribution)
    family = family_for(facts)
    if family is None:
        raise InventoryError(f"host {host.name}: {no_family_problem(facts)}")
    return family

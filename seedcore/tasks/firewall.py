"""The host firewall on every host of the inventory: nftables from the
distribution, the deploy's own table (`inet seedcore`, never a flush of the
whole ruleset), loaded by a systemd unit before Docker at boot and again after
any restart of nftables.service. Reloaded only when its rules changed,
restarted only when its unit changed (decided from the files' digests, as
Prometheus' restart is, so --dry on a converged host lists neither)."""

import hashlib

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.files import Sha256File
from pyinfra.operations import systemd

from seedcore import firewall
from seedcore.defaults import FIREWALL_DEFAULTS
from seedcore.facts.host import ActiveFirewalls
from seedcore.families import family_of, package_reads
from seedcore.hostfacts import read_fact
from seedcore.operations import secret_files, system
from seedcore.topology import settings_for


def firewall_reads(settings: dict) -> list:
    """The facts the firewall steps and preflight decide with (preflight bundles them)."""
    if not settings["firewall_manage"]:
        return []
    return [[ActiveFirewalls, {}], *package_reads(), *system.file_reads(firewall.RULES_FILE),
            *system.file_reads(firewall.UNIT_FILE), *system.service_reads(firewall.UNIT)]


def firewall_problems(host) -> list[str]:
    """ufw or firewalld active on a host whose firewall the deploy manages."""
    if not settings_for(host)["firewall_manage"]:
        return []
    return [
        f"host {host.name}: {name} is active and would fight the deploy's firewall: disable it "
        f"(e.g. `{'ufw disable' if name == 'ufw' else 'systemctl disable --now firewalld'}`) "
        "and move its rules to firewall_allow_cidrs, or set firewall_manage=False"
        for name in read_fact(host, ActiveFirewalls)
    ]


def firewall_refreshes_lists(host) -> bool:
    """Whether the firewall's package step refreshes the package lists in this
    run (nftables to install, by a family whose lists a step refreshes), so a
    later package step need not."""
    family = family_of(host)
    return bool(settings_for(host)["firewall_manage"] and family.refreshes_lists()
                and family.missing_packages(host, list(family.layout.firewall_packages)))


def _differs(path: str, text: str) -> bool:
    return read_fact(host, Sha256File, path=path) != hashlib.sha256(text.encode()).hexdigest()


@deploy("Install the host firewall", data_defaults=FIREWALL_DEFAULTS)
def install_firewall(inventory):
    settings = settings_for(host)
    rules = firewall.rules_file(firewall.allow_lists(host, inventory, settings))
    unit = firewall.unit_file()
    unit_changed = _differs(firewall.UNIT_FILE, unit)
    rules_changed = _differs(firewall.RULES_FILE, rules)
    family = family_of(host)
    family.install_packages(name="Install nftables from the distribution's packages",
                            packages=list(family.layout.firewall_packages), update=True, no_recommends=True)
    secret_files.root_only_file(name="Write the firewall rules (root only)", text=rules,
                                dest=firewall.RULES_FILE)
    system.text_file(name="Write the firewall's systemd unit", text=unit, dest=firewall.UNIT_FILE,
                     mode="644")
    if unit_changed:
        systemd.daemon_reload(name="Reload systemd because the firewall's unit changed")
    system.service(name="Enable and start the firewall (loads its rules)", service=firewall.UNIT)
    if unit_changed:
        system.service(name="Restart the firewall because its unit changed", service=firewall.UNIT,
                       restarted=True)
    elif rules_changed:
        system.service(name="Reload the firewall because its rules changed (one nft transaction)",
                       service=firewall.UNIT, reloaded=True)

"""The host firewall on every host of the inventory: nftables from the
distribution, the deploy's own table (`inet seedcore`, never a flush of the
whole ruleset), loaded by a systemd unit before Docker at boot and again after
any restart of nftables.service. Reloaded only when its rules changed,
restarted only when its unit changed (seedcore/changes.py: --dry on a
converged host lists neither)."""

from io import StringIO

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import files, systemd

from seedcore import firewall
from seedcore.changes import after_change
from seedcore.defaults import FIREWALL_DEFAULTS
from seedcore.facts.host import ActiveFirewalls
from seedcore.families import family_of, package_reads
from seedcore.hostfacts import file_reads, read_fact, root_only_reads, service_reads
from seedcore.operations import secret_files
from seedcore.topology import settings_for


def firewall_reads(settings: dict) -> list:
    """The facts the firewall steps and preflight decide with (preflight bundles them)."""
    if not settings["firewall_manage"]:
        return []
    return [[ActiveFirewalls, {}], *package_reads(), *root_only_reads(firewall.RULES_FILE),
            *file_reads(firewall.UNIT_FILE), *service_reads(firewall.UNIT)]


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


@deploy("Install the host firewall", data_defaults=FIREWALL_DEFAULTS)
def install_firewall(inventory):
    settings = settings_for(host)
    rules = firewall.rules_file(firewall.allow_lists(host, inventory, settings))
    family = family_of(host)
    family.install_packages(name="Install nftables from the distribution's packages",
                            packages=list(family.layout.firewall_packages), update=True, no_recommends=True)
    written_rules = secret_files.root_only_file(name="Write the firewall rules (root only)", text=rules,
                                                dest=firewall.RULES_FILE)
    unit = files.put(name="Write the firewall's systemd unit", src=StringIO(firewall.unit_file()),
                     dest=firewall.UNIT_FILE, mode="644", user="root", group="root")
    if changed := after_change(unit):
        systemd.daemon_reload(name="Reload systemd because the firewall's unit changed", _if=changed)
    systemd.service(name="Enable and start the firewall (loads its rules)", service=firewall.UNIT,
                    running=True, enabled=True)
    if changed := after_change(unit):
        systemd.service(name="Restart the firewall because its unit changed", service=firewall.UNIT,
                        restarted=True, _if=changed)
    if changed := after_change(written_rules, unless=(unit,)):
        systemd.service(name="Reload the firewall because its rules changed (one nft transaction)",
                        service=firewall.UNIT, reloaded=True, _if=changed)

"""The host firewall: which sources each managed port admits, and the nftables
rules file that says so (a table of the deploy's own, `inet seedcore`).

Pure functions: the inventory in, text out. Every value that reaches the
rules file is an IP network (ipaddress) or an integer; anything else is
refused in validation (firewall_problems) before any host is changed.
"""

import ipaddress
from dataclasses import dataclass

from seedcore.ports import METRICS_PORT_KEYS, SERVE_PORT_KEYS, describe, service_ports
from seedcore.topology import HEAD_GROUP, head_host, monitoring_host, node_address
from seedcore.web import doors

TABLE = "seedcore"
RULES_FILE = "/etc/seedcore/firewall.nft"
UNIT = "seedcore-firewall.service"
UNIT_FILE = f"/etc/systemd/system/{UNIT}"
CIDR_KEYS = ("firewall_allow_cidrs", "firewall_serve_cidrs", "web_cidrs")
HEADER = "# Managed by the seedcore deploy; edits here are overwritten.\n"


@dataclass(frozen=True)
class Allow:
    """One managed port (or range) and the sources admitted to it."""

    name: str
    low: int
    high: int
    sources: tuple[str, ...]


def network(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """An address or a network, host bits clear (ValueError otherwise)."""
    return ipaddress.ip_network(value.strip("[]"), strict=True)


def sources(values) -> tuple[str, ...]:
    """The networks of `values`, overlaps merged, IPv4 first."""
    nets = [network(value) for value in values]
    merged = []
    for version in (4, 6):
        merged += ipaddress.collapse_addresses(n for n in nets if n.version == version)
    return tuple(str(n) for n in merged)


def managed_ports(host, s: dict) -> list[tuple[str, int, int]]:
    """Every port the deploy opens on `host`: (name, low, high)."""
    return [*service_ports(host, s), *[(door.port_key, door.port, door.port) for door in doors(host, s)]]


def allow_lists(host, inventory, s: dict) -> list[Allow]:
    """Per managed port of `host`, the sources it admits.

    Ray's ports: every inventory host's node address, plus firewall_allow_cidrs;
    metrics ports also the monitoring host; Serve's HTTP port also
    firewall_serve_cidrs. The GCS store's Redis: the head(s) and the store
    itself only. Prometheus: the head, plus firewall_allow_cidrs. The web
    doors (HTTPS with a password): the cluster, firewall_allow_cidrs and
    web_cidrs (everyone by default). Loopback (which carries a host's traffic
    to its own addresses) is always accepted.
    """
    cluster = [node_address(h) for h in inventory]
    admin = list(s["firewall_allow_cidrs"])
    monitor = monitoring_host(inventory)
    scrapers = [node_address(monitor)] if monitor is not None else []
    head = head_host(inventory)
    heads = [node_address(h) for h in inventory.get_group(HEAD_GROUP, [])]
    door_keys = {door.port_key for door in doors(host, s)}
    allowed = []
    for name, low, high in managed_ports(host, s):
        if name == "ray_gcs_store_port":
            admitted = [*heads, node_address(host)]
        elif name in door_keys:
            admitted = [*cluster, *admin, *s["web_cidrs"]]
        elif name == "monitoring_port":
            admitted = [*([node_address(head)] if head is not None else []), node_address(host), *admin]
        else:
            admitted = [*cluster, *admin]
            if name in METRICS_PORT_KEYS:
                admitted += scrapers
            if name in SERVE_PORT_KEYS:
                admitted += s["firewall_serve_cidrs"]
        allowed.append(Allow(name, low, high, sources(admitted)))
    return allowed


def rules_file(allowed: list[Allow]) -> str:
    """The nftables rules: replace the table `inet seedcore` in one transaction
    (`nft -f` applies the whole file or nothing), leaving every other table
    (Docker's among them) as it is."""
    lines = [
        HEADER.rstrip("\n"),
        "# Loaded by seedcore-firewall.service (nft -f). The first two lines make the",
        "# load a replacement: create the table if absent, delete it, then define it.",
        f"table inet {TABLE}",
        f"delete table inet {TABLE}",
        "",
        f"table inet {TABLE} {{",
        "    chain input {",
        "        type filter hook input priority 0; policy accept;",
        '        iif "lo" accept',
        "        ct state established,related accept",
    ]
    for allow in allowed:
        ports = str(allow.low) if allow.low == allow.high else f"{allow.low}-{allow.high}"
        lines.append(f"        # {describe((allow.name, allow.low, allow.high))}")
        for family, version in (("ip", 4), ("ip6", 6)):
            nets = [n for n in allow.sources if ipaddress.ip_network(n).version == version]
            if nets:
                lines.append(f"        tcp dport {ports} {family} saddr {{ {', '.join(nets)} }} accept")
        lines.append(f"        tcp dport {ports} drop")
    lines += ["    }", "}", ""]
    return "\n".join(lines)


def unit_file() -> str:
    """The systemd unit that loads the rules at boot, before Docker, and again
    whenever nftables.service (whose stock config flushes the whole ruleset)
    is restarted."""
    return "\n".join([
        HEADER.rstrip("\n"),
        "[Unit]",
        f"Description=seedcore host firewall (nftables table inet {TABLE})",
        "After=nftables.service",
        "PartOf=nftables.service",
        "Before=docker.service",
        "",
        "[Service]",
        "Type=oneshot",
        "RemainAfterExit=yes",
        f"ExecStart=/usr/sbin/nft -f {RULES_FILE}",
        f"ExecReload=/usr/sbin/nft -f {RULES_FILE}",
        f"ExecStop=-/usr/sbin/nft delete table inet {TABLE}",
        "TimeoutStartSec=30",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ])


def firewall_problems(host, s: dict) -> list[str]:
    """What stops the firewall being written for `host`: a CIDR that is not one,
    a node address that is not an IP, a managed port on the SSH port."""
    if s["firewall_manage"] is not True:
        return []
    problems = []
    for key in CIDR_KEYS:
        for item in s[key] if isinstance(s[key], list) else []:
            try:
                network(item) if isinstance(item, str) else network("")
            except ValueError:
                problems.append(
                    f"host {host.name}: {key} {item!r} is not an IP address or network: give one such as "
                    "192.0.2.10 or 10.0.0.0/8 (host bits clear), or remove it"
                )
    address = node_address(host)
    try:
        network(address)
    except ValueError:
        problems.append(
            f"host {host.name}: its address {address!r} is not an IP (the name does not resolve here): "
            "the firewall admits addresses only; set ray_node_ip to its IP, or firewall_manage=False"
        )
    ssh_port = host.data.get("ssh_port") or 22
    for entry in managed_ports(host, s):
        if isinstance(entry[1], int) and isinstance(entry[2], int) and entry[1] <= ssh_port <= entry[2]:
            problems.append(
                f"host {host.name}: {describe(entry)} covers this host's SSH port (ssh_port={ssh_port}): "
                f"the firewall never manages SSH; move {entry[0]} off port {ssh_port}"
            )
    return problems

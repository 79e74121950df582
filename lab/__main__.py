"""`python -m lab up [--hosts N] [--distros LIST] [--sources LIST] [--fresh] [--bastion] | down
| status [--json] | versions | view | ssh NAME [COMMAND...]`."""

import argparse
import json
import os
import sys
import time

from lab import lifecycle, outsider, ssh, state, versions
from lab.config import DEFAULT_HOSTS, DISTROS, REPO, WEB_PASSWORD_FILE
from lab.errors import LabError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lab", description="The local lab of real hosts.")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="create or refresh the lab (fast when current)")
    up.add_argument("--hosts", type=int, default=DEFAULT_HOSTS, help="number of hosts; the first is the head")
    up.add_argument(
        "--distros",
        help="Debian release per host in order, the last repeating: e.g. bookworm,trixie "
        "(default: a running host keeps its release, a new one is bookworm)",
    )
    up.add_argument(
        "--sources",
        help="Docker install source per host in order, the last repeating: distro (the host's archive) "
        "or docker (the lab's apt mirror); default: bookworm hosts distro, trixie hosts docker",
    )
    up.add_argument("--fresh", action="store_true", help="recreate every host bare")
    up.add_argument("--bastion", action="store_true",
                    help="add a bastion; this machine then reaches the other hosts only by SSH through it")
    up.add_argument("--outsider", action="store_true",
                    help="also start a container on the lab network that is in no inventory (firewall tests)")
    commands.add_parser("down", help="remove the lab's hosts, registry, volumes and network")
    status = commands.add_parser("status", help="list the hosts and whether SSH works")
    status.add_argument("--json", action="store_true", help="print JSON")
    commands.add_parser("versions", help="each host's release, Docker source, Docker and Compose versions")
    commands.add_parser("view", help="where the dashboard, Serve and Prometheus answer (through the bastion "
                        "on a bastion lab)")
    login = commands.add_parser("ssh", help="SSH to a lab host as the lab user (host keys checked)")
    login.add_argument("name", help="host name, e.g. seedcore-lab-1")
    login.add_argument("remote", nargs=argparse.REMAINDER, help="command to run instead of a shell")
    return parser


def _ssh(name: str, remote: list[str]) -> int:
    """Replace this process with `ssh` to the named host."""
    hosts = {host["name"]: host for host in state.load()["hosts"]}
    if name not in hosts:
        raise LabError(f"no lab host named {name} (hosts: {', '.join(hosts)})")
    os.execvp("ssh", ssh.command(hosts[name]["ip"], " ".join(remote), batch=False))
    return 1


def _print_rows(rows: list[dict], columns: list[tuple[str, str]]) -> None:
    table = [tuple(title for title, _ in columns)]
    table += [tuple(str(row[key]) for _, key in columns) for row in rows]
    widths = [max(len(line[column]) for line in table) for column in range(len(columns))]
    for line in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())


def _distro_name(codename: str) -> str:
    return f"debian {DISTROS[codename]} ({codename})" if codename in DISTROS else "?"


def _print_table(report: dict) -> None:
    rows = [
        {
            **host,
            "distro": _distro_name(host["distro"]),
            "install_source": host["install_source"] or "?",
            "ssh": "yes" if host["ssh"] else "no",
        }
        for host in report["hosts"]
    ]
    _print_rows(
        rows,
        [
            ("NAME", "name"),
            ("IP", "ip"),
            ("ROLE", "role"),
            ("DISTRO", "distro"),
            ("DOCKER FROM", "install_source"),
            ("SSH", "ssh"),
        ],
    )
    if report.get("registry"):
        print(f"registry: {report['registry']['address']} (push: {report['registry']['push_address']})")
        print(f"ray image: {report['ray_image']}")
    if report.get("apt_mirror"):
        mirror = report["apt_mirror"]
        print(f"apt mirror: {mirror['url']}/debian (key {mirror['key_fingerprint']})")
        for codename, packages in mirror.get("versions", {}).items():
            print(f"  {codename}: " + ", ".join(f"{name} {version}" for name, version in packages.items()))


def _view() -> None:
    """The endpoints from this machine: straight to the hosts, or on a bastion
    lab the deploy's own ssh line (seedcore/view.py) over the lab's inventory."""
    current = state.require_up()
    head = next(h for h in current["hosts"] if h["role"] == "head")
    monitor = current["hosts"][-1]
    if not current.get("bastion"):
        print(f"Ray dashboard: http://{head['ip']}:8265   Serve health: http://{head['ip']}:8000/health")
        print(f"Prometheus: http://{monitor['ip']}:9090/targets   alerts: http://{monitor['ip']}:9090/alerts")
        print(f"Web door (user seedcore, password in {WEB_PASSWORD_FILE}, CA {REPO / '.lab/tls/ca.crt'}): "
              f"dashboard https://{head['ip']}:8443/   Prometheus https://{monitor['ip']}:9443/")
        return
    from pyinfra.api import Inventory

    from lab.inventory import host_entry
    from seedcore.view import view_lines

    entries = [host_entry(current, host) for host in current["hosts"]]
    inventory = Inventory((entries, {}), ray_head=([entries[0][0]], {}),
                          ray_workers=([name for name, _ in entries[1:]], {}),
                          monitoring=([entries[-1][0]], {}))
    print("\n".join(view_lines(inventory)))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    started = time.monotonic()
    try:
        if args.command == "up":
            current = lifecycle.up(args.hosts, fresh=args.fresh, distros=args.distros, sources=args.sources,
                                   with_bastion=args.bastion)
            names = ", ".join(host["name"] for host in current["hosts"])
            if args.outsider:
                names += f"; outsider at {outsider.ensure(current)}"
            print(f"lab up in {time.monotonic() - started:.1f} s: {names}; state in .lab/state.json")
        elif args.command == "down":
            lifecycle.down()
            print(f"lab down in {time.monotonic() - started:.1f} s")
        elif args.command == "versions":
            _print_rows(
                [{**row, "distro": _distro_name(row["distro"])} for row in versions.rows()],
                [
                    ("NAME", "name"),
                    ("ROLE", "role"),
                    ("DISTRO", "distro"),
                    ("DOCKER FROM", "install_source"),
                    ("DOCKER", "docker"),
                    ("COMPOSE", "compose"),
                ],
            )
        elif args.command == "view":
            _view()
        elif args.command == "ssh":
            return _ssh(args.name, args.remote)
        else:
            report = lifecycle.status()
            if args.json:
                print(json.dumps(report, indent=2))
            else:
                _print_table(report)
            if not all(host["ssh"] for host in report["hosts"]):
                return 1
    except LabError as error:
        print(f"lab: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("lab: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

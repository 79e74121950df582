"""The one `ssh -L` line that opens the cluster's web endpoints on the
operator's own machine, through the SSH path the deploy itself uses (its
ssh config, bastions included): the dashboard, Serve and, with a monitoring
host, Prometheus, all reached from the head."""

import shlex
from dataclasses import dataclass

from seedcore.topology import head_host, monitoring_host, node_address, settings_for, ssh_address
from seedcore.web import door_url, doors


@dataclass(frozen=True)
class Forward:
    what: str
    local_port: int
    address: str
    port: int


def forwards(inventory) -> list[Forward]:
    """What the line forwards: each endpoint as the head reaches it."""
    head = head_host(inventory)
    if head is None:
        return []
    s = settings_for(head)
    found = [
        Forward("Ray dashboard", s["ray_dashboard_port"], "127.0.0.1", s["ray_dashboard_port"]),
        Forward("Serve", s["serve_http_port"], "127.0.0.1", s["serve_http_port"]),
    ]
    monitor = monitoring_host(inventory)
    if monitor is not None:
        port = settings_for(monitor)["monitoring_port"]
        found.append(Forward("Prometheus", port, node_address(monitor), port))
    return found


def tunnel_command(inventory) -> list[str]:
    """`ssh -N -L ... user@head` as argv ([] without a head)."""
    head = head_host(inventory)
    if head is None:
        return []
    data = head.data
    argv = ["ssh", "-N"]
    if data.get("ssh_config_file"):
        argv += ["-F", str(data.get("ssh_config_file"))]
    if data.get("ssh_key"):
        argv += ["-i", str(data.get("ssh_key"))]
    if data.get("ssh_known_hosts_file"):
        argv += ["-o", f"UserKnownHostsFile={data.get('ssh_known_hosts_file')}"]
    if data.get("ssh_port"):
        argv += ["-p", str(data.get("ssh_port"))]
    for forward in forwards(inventory):
        argv += ["-L", f"127.0.0.1:{forward.local_port}:{forward.address}:{forward.port}"]
    user = data.get("ssh_user")
    argv.append(f"{user}@{ssh_address(head)}" if user else ssh_address(head))
    return argv


def view_lines(inventory) -> list[str]:
    """The command, then where each endpoint then answers on this machine."""
    argv = tunnel_command(inventory)
    if not argv:
        return []
    lines = ["Open the web endpoints on this machine (through the deploy's own SSH path):",
             "  " + shlex.join(argv)]
    lines += [f"  then {forward.what}: http://127.0.0.1:{forward.local_port}/"
              for forward in forwards(inventory)]
    return lines + door_lines(inventory)


def door_lines(inventory) -> list[str]:
    """The web doors (HTTPS with a password, no tunnel needed), where they run."""
    found = [(host, door) for host in (head_host(inventory), monitoring_host(inventory)) if host is not None
             for door in doors(host, settings_for(host))]
    # The head may also be the monitoring host: each door once.
    found = list({(host.name, door.what): (host, door) for host, door in found}.values())
    if not found:
        return []
    s = settings_for(found[0][0])
    lines = [f"Or through the web door (user {s['web_user']}, password in ${s['web_password_env']}; "
             "the certificate is signed by the cluster's CA, ca.crt in tls_dir, unless web_cert is set):"]
    lines += [f"  {'Ray dashboard' if door.what == 'dashboard' else 'Prometheus'}: "
              f"{door_url(node_address(host), door)}" for host, door in found]
    return lines

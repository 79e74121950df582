"""The web door: nginx from the distribution, the one way people reach the Ray
dashboard (on the head) and Prometheus (on the monitoring host) from outside
the cluster: HTTPS (TLS 1.2+) with a password (HTTP Basic), failed attempts
slowed down per client address.

Pure functions: which doors a host runs, nginx's site file, the password file.
Every value that reaches nginx's config is an integer, a fixed path, or an
address validation matched against its pattern (no space, quote, `;`, `{`).
"""

import hashlib
import os
import re
from dataclasses import dataclass

from seedcore.defaults import ENV_NAME
from seedcore.ports import describe, service_ports
from seedcore.prometheus import host_port
from seedcore.sha_crypt import ALPHABET, sha512_crypt
from seedcore.topology import is_monitoring_host, role_of

SITE_FILE = "/etc/nginx/conf.d/seedcore-web.conf"
DOOR_DIR = "/etc/nginx/seedcore"
CERT_FILE = f"{DOOR_DIR}/door.crt"
KEY_FILE = f"{DOOR_DIR}/door.key"
PASSWORD_FILE = f"{DOOR_DIR}/htpasswd"
REALM = "seedcore"
HEADER = "# Managed by the seedcore deploy; edits here are overwritten.\n"
# Every address may knock on the door, so the password must not be guessable.
MIN_PASSWORD_LENGTH = 12
# Failed attempts per client address: one a second, the rest wait their turn
# (up to FAILURE_QUEUE). With at most CONNECTIONS open connections per address
# and each waiting answer holding one, guessing runs at about one password a
# second per address; a right password is never slowed.
FAILURE_RATE = "1r/s"
FAILURE_QUEUE = 1000
CONNECTIONS = 32
# The dashboard's Jobs API takes uploaded working directories.
MAX_BODY = "512m"
# Cost of the password file's salt (PBKDF2-HMAC-SHA512 iterations), see door_salt.
SALT_ITERATIONS = 50_000
WILDCARDS = ("0.0.0.0", "::", "[::]")


@dataclass(frozen=True)
class Door:
    """One HTTPS door on a host: its port and what it opens."""

    what: str
    port_key: str
    port: int
    # Where nginx forwards, on the host itself ("127.0.0.1:8265").
    upstream: str
    # A path that answers 200 behind the door once the password is given.
    check_path: str


def local_address(listen: str) -> str:
    """Where a service listening on `listen` is reached from its own host."""
    return "127.0.0.1" if listen in WILDCARDS else listen


def doors(host, s: dict) -> list[Door]:
    """The doors `host` runs (settings `s`): the dashboard's on the head, Prometheus'
    on the monitoring host; none with web_manage off."""
    if not s["web_manage"]:
        return []
    found = []
    if role_of(host) == "head":
        upstream = host_port(local_address(s["ray_dashboard_host"]), s["ray_dashboard_port"])
        found.append(Door("dashboard", "web_dashboard_port", s["web_dashboard_port"], upstream,
                          "/api/version"))
    if is_monitoring_host(host):
        upstream = host_port(local_address(s["monitoring_listen_host"]), s["monitoring_port"])
        found.append(Door("prometheus", "web_prometheus_port", s["web_prometheus_port"], upstream,
                          "/-/ready"))
    return found


def door_url(address: str, door: Door) -> str:
    return f"https://{host_port(address, door.port)}/"


def _server(door: Door) -> list[str]:
    failed = f"@seedcore_{door.what}_auth_failed"
    proxy = [
        f"proxy_pass http://{door.upstream};",
        "proxy_http_version 1.1;",
        "proxy_set_header Host $host;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_set_header X-Forwarded-Proto https;",
        "proxy_set_header Upgrade $http_upgrade;",
        "proxy_set_header Connection $seedcore_connection;",
        "# The door's credentials stay at the door.",
        'proxy_set_header Authorization "";',
        "proxy_read_timeout 300s;",
    ]
    return [
        f"# The {door.what} door: https://<this host>:{door.port}/ -> http://{door.upstream}",
        "server {",
        f"    listen {door.port} ssl;",
        f"    listen [::]:{door.port} ssl;",
        f"    ssl_certificate {CERT_FILE};",
        f"    ssl_certificate_key {KEY_FILE};",
        "    ssl_protocols TLSv1.2 TLSv1.3;",
        "    server_tokens off;",
        f"    client_max_body_size {MAX_BODY};",
        f"    limit_conn seedcore_door_connections {CONNECTIONS};",
        f'    auth_basic "{REALM}";',
        f"    auth_basic_user_file {PASSWORD_FILE};",
        "    # A refused password is answered again from here, where it waits its turn:",
        "    # limit_req runs before auth_basic, so only failures are counted and slowed.",
        f"    error_page 401 = {failed};",
        "    location / {",
        *[f"        {line}" for line in proxy],
        "    }",
        f"    location {failed} {{",
        f"        limit_req zone=seedcore_auth_failures burst={FAILURE_QUEUE};",
        f'        auth_basic "{REALM}";',
        f"        auth_basic_user_file {PASSWORD_FILE};",
        *[f"        {line}" for line in proxy],
        "    }",
        "}",
    ]


def site_config(found: list[Door]) -> str:
    """nginx's site file for the host's doors (included in its http block)."""
    lines = [
        HEADER.rstrip("\n"),
        "# The web door: TLS and a password in front of the dashboard and Prometheus.",
        f"limit_req_zone $binary_remote_addr zone=seedcore_auth_failures:1m rate={FAILURE_RATE};",
        "limit_conn_zone $binary_remote_addr zone=seedcore_door_connections:1m;",
        "map $http_upgrade $seedcore_connection {",
        "    default upgrade;",
        '    "" close;',
        "}",
        "",
    ]
    for door in found:
        lines += [*_server(door), ""]
    return "\n".join(lines)


def door_salt(password: str, host_name: str) -> str:
    """The password file's crypt salt, the same for the same password on the same host.

    A random salt would make every run write a new file (and reload nginx), and
    telling whether the file on the host holds the password would mean reading
    the hash back. Derived from the password and the host name instead, so the
    file's digest decides and a new password or another host gives another salt.
    The salt is visible in the file: it is made with PBKDF2 at about ten times
    the crypt's own cost (5000 SHA-512 rounds), so it is no quicker way to test
    a guessed password than the hash itself (a plain HMAC would be one).
    """
    raw = hashlib.pbkdf2_hmac("sha512", password.encode(), b"seedcore web door\0" + host_name.encode(),
                              SALT_ITERATIONS)
    return "".join(ALPHABET[byte & 0x3F] for byte in raw[:16])


def password_file(user: str, password: str, host_name: str) -> str:
    """`user:$6$salt$hash`, the one line of nginx's auth_basic_user_file."""
    return f"{user}:{sha512_crypt(password, door_salt(password, host_name))}\n"


def password_problem(value: str | None) -> str | None:
    """Why the password cannot be the door's (never showing it), or None."""
    if not value:
        return "is not set"
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        return "holds a control character (a newline, tab, NUL...; value not shown)"
    if len(value) < MIN_PASSWORD_LENGTH:
        return (f"is shorter than {MIN_PASSWORD_LENGTH} characters (value not shown): every address "
                "may try it")
    return None


def _taken(host, s: dict) -> list[tuple[str, int, int]]:
    """The other ports the deploy opens on `host`, which a door must not take."""
    taken = service_ports(host, s)
    if not s["firewall_manage"]:
        # With the firewall on, firewall_problems names a managed port on SSH's.
        ssh_port = host.data.get("ssh_port") or 22
        taken.append(("ssh_port", ssh_port, ssh_port))
    return taken


def door_problems(host, s: dict) -> list[str]:
    """What stops `host`'s doors: the password variable unset or unusable, a door
    port another service of the host has, the operators' certificate half given
    or unreadable. Each line names the host, the key and the fix."""
    found = doors(host, s)
    if not found:
        return []
    problems = []
    variable = s["web_password_env"]
    if isinstance(variable, str) and re.fullmatch(ENV_NAME[0], variable):
        why = password_problem(os.environ.get(variable))
        if why:
            problems.append(
                f"host {host.name}: the web door's password ${variable} (web_password_env) {why}: export "
                f"it (from your secret store, at least {MIN_PASSWORD_LENGTH} characters, one line) "
                "before the run, or set web_manage=False")
    taken = [entry for entry in _taken(host, s) if all(isinstance(port, int) for port in entry[1:])]
    for index, door in enumerate(found):
        if not isinstance(door.port, int):
            continue  # check_keys reports it
        clash = next((entry for entry in taken if entry[1] <= door.port <= entry[2]), None)
        if clash is None:
            clash = next(((other.port_key, other.port, other.port) for other in found[:index]
                          if other.port == door.port), None)
        if clash is not None:
            problems.append(
                f"host {host.name}: {door.port_key}={door.port} is also {describe(clash)} on this host: "
                f"two services cannot share a port; give the {door.what} door another")
    cert, key = s["web_cert"], s["web_key"]
    if isinstance(cert, str) and isinstance(key, str) and (cert or key):
        if not (cert and key):
            problems.append(f"host {host.name}: web_cert and web_key go together (the operators' certificate "
                            "for the web door): set both, or neither for one from the cluster's CA")
        else:
            problems += [f"host {host.name}: {name} {path} cannot be read on this machine: give the path of "
                         "a PEM file" for name, path in (("web_cert", cert), ("web_key", key))
                         if not os.access(path, os.R_OK)]
    return problems

"""How a check reaches an endpoint of the cluster: through the SSH connection
pyinfra already holds to a host, or straight from the control machine.

Every check and gate (verify, the rollout's batch gates, the monitoring and
GCS store checks) opens its TCP connections with a `Reach`. Through a host,
the connection is a `direct-tcpip` channel of that host's SSH transport: sshd
on the host connects to the endpoint, so the request comes from the host (a
cluster address the firewall admits) and the control machine needs nothing
but the SSH port, bastions (ProxyJump) included. Opening a channel on a live
transport costs one SSH round trip and starts no process on the host, which
is why this was chosen over running a probe command on the host (a process
per request) or over a fresh SSH session per check.

pyinfra's SSH connector keeps its paramiko client; seedcore/pyinfra_seam.py
reads it (ssh_client_of). A host without one (the
`@local` or `@fake` connectors) is reached from the control machine, and
every result says which.
"""

import http.client
import json
import logging
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from seedcore.pyinfra_seam import has_ssh_client, ssh_client_of
from seedcore.tls_session import TlsSession

# Seconds for one connection: opening it and each read on it.
TIMEOUT_S = 5
# Ray 2.20's dashboard answers a request without a User-Agent with a 500.
USER_AGENT = "seedcore-deploy"
# The most one HTTP answer may hold (Prometheus' targets on a large fleet stay far below).
MAX_BODY_BYTES = 32 << 20


class Unreachable(ConnectionError):
    """The endpoint could not be reached (refused, filtered, no route, channel refused)."""


class HTTPError(ValueError):
    """The endpoint answered with an HTTP error status."""


@dataclass(frozen=True)
class Response:
    status_code: int
    text: str

    def json(self):
        return json.loads(self.text)

    url: str = ""

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise HTTPError(f"{self.status_code} from {self.url}: {self.text[:80]}")


def _direct(address: str, port: int, timeout: float):
    return socket.create_connection((address.strip("[]"), int(port)), timeout=timeout)


@dataclass(frozen=True)
class Reach:
    """Opens connections to endpoints; `where` names where they come from."""

    where: str
    connect: Callable[[str, int, float], object] = _direct

    def open(self, address: str, port: int, timeout: float = TIMEOUT_S, tls: ssl.SSLContext | None = None):
        """A connected socket-like object (sendall, recv, makefile, close); with
        `tls`, a TLS session on it whose server certificate names `address`."""
        try:
            conn = self.connect(address, int(port), timeout)
        except OSError as error:
            raise Unreachable(f"{address}:{port} not reachable {self.where}: {error}") from None
        except Exception as error:  # paramiko's ChannelException / SSHException: the channel was refused
            raise Unreachable(f"{address}:{port} not reachable {self.where}: "
                              f"{type(error).__name__}: {error}") from None
        conn.settimeout(timeout)
        if tls is None:
            return conn
        try:
            return TlsSession(conn, tls, server_hostname=address.strip("[]"))
        except (OSError, ssl.SSLError) as error:
            conn.close()
            raise Unreachable(f"TLS to {address}:{port} {self.where} failed: "
                              f"{type(error).__name__}: {error}") from None

    def get(self, url: str, timeout: float = TIMEOUT_S, tls: ssl.SSLContext | None = None,
            headers: dict[str, str] | None = None) -> Response:
        """GET `url` over one connection of this reach: http://, or https:// with
        the client context `tls` (which CAs to trust, which certificate to show)."""
        parts = urlsplit(url)
        secure = parts.scheme == "https"
        if parts.scheme not in ("http", "https") or not parts.hostname or secure != bool(tls):
            raise ValueError(
                f"only http:// URLs, or https:// URLs with a TLS context, are fetched, not {url!r}")
        port = parts.port or (443 if tls else 80)
        conn = http.client.HTTPConnection(parts.hostname, port, timeout=timeout)
        opened = self.open(parts.hostname, port, timeout, tls=tls)
        conn.sock = _HeldOpen(opened)
        try:
            path = parts.path or "/"
            conn.request("GET", path + (f"?{parts.query}" if parts.query else ""),
                         headers={"Connection": "close", "Accept": "*/*", "User-Agent": USER_AGENT,
                                  **(headers or {})})
            answer = conn.getresponse()
            body = answer.read(MAX_BODY_BYTES + 1)
            if len(body) > MAX_BODY_BYTES:
                raise ValueError(f"{url}: answer larger than {MAX_BODY_BYTES} bytes")
            return Response(answer.status, body.decode("utf-8", errors="replace"), url)
        except (OSError, ssl.SSLError, http.client.HTTPException) as error:
            raise Unreachable(f"GET {url} {self.where}: {type(error).__name__}: {error}") from None
        finally:
            conn.close()
            opened.close()


class _HeldOpen:
    """The connection under an HTTPConnection, closed by `Reach.get` once the answer is read.

    http.client closes its socket as soon as it has read the headers of a
    `Connection: close` answer, and reads the body through the file it made;
    a real socket stays open until that file is closed too, but a paramiko
    channel (or a TLS session on one) closes at once and drops what has not
    arrived yet: a body sent after its headers (Serve's proxy does) read as
    IncompleteRead, a red check for a healthy endpoint."""

    def __init__(self, conn):
        self._conn = conn

    def __getattr__(self, name):
        return getattr(self._conn, name)

    def close(self) -> None:
        pass


FROM_CONTROL = Reach("from the control machine")


class _RefusedChannels(logging.Filter):
    """paramiko logs each refused channel ("Secsh channel 3 open FAILED: ..."); a
    check that retries while its endpoint comes up would print one such line per
    try. The check's own result says what was refused, and from where."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (message.startswith("Secsh channel") and "open FAILED" in message)


logging.getLogger("paramiko.transport").addFilter(_RefusedChannels())


def over_ssh(name: str, client_of: Callable[[], object]) -> Reach:
    """A Reach whose connections are direct-tcpip channels of the paramiko
    client `client_of()` returns (read at each connection), to host `name`."""

    def connect(address: str, port: int, timeout: float):
        client = client_of()
        transport = client.get_transport() if client is not None else None
        if transport is None or not transport.is_active():
            raise Unreachable(f"the SSH connection to {name} is closed")
        return transport.open_channel("direct-tcpip", (address.strip("[]"), port),
                                      ("127.0.0.1", 0), timeout=timeout)

    return Reach(f"from host {name} (through its SSH connection)", connect)


def through(host) -> Reach:
    """A Reach through pyinfra's SSH connection to `host` (from the control
    machine when its connector is not SSH: `@local`, `@fake`)."""
    if not has_ssh_client(host):
        return FROM_CONTROL
    return over_ssh(host.name, lambda: ssh_client_of(host))

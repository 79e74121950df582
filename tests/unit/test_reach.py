"""Checks reach their endpoints through a host's SSH connection: a real paramiko
transport to an in-process SSH server that serves direct-tcpip channels, in
front of a local HTTP server and a local Redis-like TCP peer."""

import socket
import ssl
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import paramiko
import pytest

from seedcore import checks, pki
from seedcore.reach import FROM_CONTROL, Unreachable, through
from seedcore.tls_session import client_context


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.server.paths.append(self.path)
        self.server.authorizations.append(self.headers.get("Authorization"))
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"ray_node_cpu 1\n", b"ray_node_mem 2\n"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
            return
        if self.path == "/slow":
            time.sleep(0.5)
            self.path = "/api/gcs_healthz"
        if self.path == "/late-body":
            # Headers first, the body a moment later, then close (as Serve's proxy answers).
            self.send_response(200)
            self.send_header("Content-Length", "7")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.flush()
            time.sleep(0.2)
            self.wfile.write(b"success")
            self.close_connection = True
            return
        body = b"success" if self.path == "/api/gcs_healthz" else b"Not Found"
        self.send_response(200 if self.path == "/api/gcs_healthz" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _serve(httpd):
    httpd.paths, httpd.authorizations = [], []
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    return httpd


@pytest.fixture
def http_server():
    httpd = _serve(ThreadingHTTPServer(("127.0.0.1", 0), _Handler))
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _ca():
    key, cert = pki.make_ca("test cluster CA")
    return key, cert


@pytest.fixture(scope="module")
def cluster_ca():
    return _ca()


def _server_files(tmp_path, ca, address="127.0.0.1", name="head"):
    key = pki.key_pem(pki.new_key())
    cert = pki.issue_node_cert(ca[0], ca[1], key, name, address, 30)
    (tmp_path / f"{name}.key").write_text(key)
    (tmp_path / f"{name}.crt").write_text(cert)
    return str(tmp_path / f"{name}.crt"), str(tmp_path / f"{name}.key")


class _TLSServer(ThreadingHTTPServer):
    """An HTTPS server: the handshake runs in the handler's thread, so a refused
    client does not stop the listener."""

    def __init__(self, address, handler, context):
        super().__init__(address, handler)
        self.context = context

    def get_request(self):
        sock, peer = super().get_request()
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), peer

    def finish_request(self, request, client_address):
        try:
            request.do_handshake()
        except (ssl.SSLError, OSError):
            return
        super().finish_request(request, client_address)


@pytest.fixture
def https_server(tmp_path, cluster_ca):
    """An HTTPS server with a certificate of the cluster CA for 127.0.0.1 that
    asks for (but does not require) a client certificate."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cadata=cluster_ca[1])
    context.load_cert_chain(*_server_files(tmp_path, cluster_ca))
    context.verify_mode = ssl.CERT_OPTIONAL
    httpd = _serve(_TLSServer(("127.0.0.1", 0), _Handler, context))
    yield httpd
    httpd.shutdown()
    httpd.server_close()


class _SSHServer(paramiko.ServerInterface):
    """Accepts anyone, and opens a direct-tcpip channel only to `allowed` ports."""

    def __init__(self, allowed: set[int]):
        self.allowed, self.requested = allowed, []

    def get_allowed_auths(self, username):
        return "none"

    def check_auth_none(self, username):
        return paramiko.AUTH_SUCCESSFUL

    def check_channel_direct_tcpip_request(self, chanid, origin, destination):
        self.requested.append(destination)
        if destination[1] not in self.allowed:
            return paramiko.OPEN_FAILED_CONNECT_FAILED
        return paramiko.OPEN_SUCCEEDED


def _pump(source, sink):
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, sink):
            try:
                end.close()
            except OSError:
                pass


def _serve_channels(transport, interface):
    while transport.is_active():
        channel = transport.accept(0.2)
        if channel is None:
            continue
        address, port = interface.requested[-1]
        upstream = socket.create_connection((address, port), timeout=5)
        threading.Thread(target=_pump, args=(channel, upstream), daemon=True).start()
        threading.Thread(target=_pump, args=(upstream, channel), daemon=True).start()


@dataclass
class _Connector:
    client: object


@dataclass
class _Host:
    name: str
    connector: object


class _Client:
    def __init__(self, transport):
        self.transport = transport

    def get_transport(self):
        return self.transport


@pytest.fixture
def ssh_host(http_server, https_server):
    """A host whose pyinfra connector holds a live paramiko client."""
    server_end, client_end = socket.socketpair()
    interface = _SSHServer({http_server.server_address[1], https_server.server_address[1]})
    server = paramiko.Transport(server_end)
    server.add_server_key(paramiko.RSAKey.generate(1024))
    server.start_server(event=threading.Event(), server=interface)
    threading.Thread(target=_serve_channels, args=(server, interface), daemon=True).start()
    client = paramiko.Transport(client_end)
    client.start_client(timeout=10)
    client.auth_none("seedcore")
    yield _Host("worker-1", _Connector(_Client(client))), interface
    client.close()
    server.close()


def test_a_check_travels_through_the_hosts_ssh_connection(ssh_host, http_server):
    host, interface = ssh_host
    port = http_server.server_address[1]
    reach = through(host)
    url = f"http://127.0.0.1:{port}/api/gcs_healthz"
    result = checks.poll("worker-1", "gcs health", checks.probe_text(reach, url, "success"), 0)
    assert result.ok, result.detail
    assert interface.requested == [("127.0.0.1", port)]
    assert http_server.paths == ["/api/gcs_healthz"]
    assert reach.where == "from host worker-1 (through its SSH connection)"


def test_a_chunked_answer_is_read_whole_through_the_channel(ssh_host, http_server):
    host, _ = ssh_host
    response = through(host).get(f"http://127.0.0.1:{http_server.server_address[1]}/chunked")
    assert (response.status_code, response.text) == (200, "ray_node_cpu 1\nray_node_mem 2\n")


def test_a_body_sent_after_its_headers_is_read_whole_through_the_channel(ssh_host, http_server):
    host, _ = ssh_host
    response = through(host).get(f"http://127.0.0.1:{http_server.server_address[1]}/late-body")
    assert (response.status_code, response.text) == (200, "success")


def test_a_body_sent_after_its_headers_is_read_whole_over_tls_through_the_channel(ssh_host, https_server,
                                                                                 cluster_ca):
    host, _ = ssh_host
    response = through(host).get(f"https://127.0.0.1:{https_server.server_address[1]}/late-body",
                                 tls=client_context(cluster_ca[1]))
    assert (response.status_code, response.text) == (200, "success")


def test_a_hosts_checks_go_side_by_side_over_its_one_ssh_connection(ssh_host, http_server):
    host, interface = ssh_host
    port = http_server.server_address[1]
    reach = through(host)
    polls = [(f"check {index}", checks.probe_text(reach, f"http://127.0.0.1:{port}/slow", "success"), None)
             for index in range(4)]
    started = time.monotonic()
    results = checks.poll_all("worker-1", polls, time.monotonic() + 10)
    assert [(r.check, r.ok) for r in results] == [(f"check {index}", True) for index in range(4)]
    assert time.monotonic() - started < 1.5  # one after another: 2 s
    assert interface.requested == [("127.0.0.1", port)] * 4


def test_a_channel_the_host_cannot_open_is_red_naming_where_from(ssh_host):
    host, _ = ssh_host
    probe = checks.probe_metrics(through(host), "127.0.0.1", 9)
    result = checks.poll("worker-1", "metrics", probe, 0)
    assert not result.ok
    assert result.detail.startswith("Unreachable: 127.0.0.1:9 not reachable from host worker-1")


def test_a_closed_ssh_connection_is_unreachable_not_a_crash(ssh_host):
    host, _ = ssh_host
    reach = through(host)
    host.connector.client.transport.close()
    with pytest.raises(Unreachable, match="the SSH connection to worker-1 is closed"):
        reach.open("127.0.0.1", 80)


def test_a_host_without_an_ssh_connection_is_reached_from_the_control_machine():
    assert through(_Host("local", object())) is FROM_CONTROL


def test_only_http_urls_or_https_urls_with_a_tls_context_are_fetched(cluster_ca):
    with pytest.raises(ValueError, match="only http://"):
        FROM_CONTROL.get("file:///etc/passwd")
    with pytest.raises(ValueError, match="with a TLS context"):
        FROM_CONTROL.get("https://127.0.0.1:9/")
    with pytest.raises(ValueError, match="with a TLS context"):
        FROM_CONTROL.get("http://127.0.0.1:9/", tls=client_context(cluster_ca[1]))


def test_https_travels_through_the_hosts_ssh_connection_with_its_headers(ssh_host, https_server, cluster_ca):
    host, interface = ssh_host
    port = https_server.server_address[1]
    response = through(host).get(f"https://127.0.0.1:{port}/api/gcs_healthz",
                                 tls=client_context(cluster_ca[1]),
                                 headers={"Authorization": "Basic c2VlZGNvcmU6cHc="})
    assert (response.status_code, response.text) == (200, "success")
    assert interface.requested == [("127.0.0.1", port)]
    assert https_server.authorizations == ["Basic c2VlZGNvcmU6cHc="]


def test_a_chunked_https_answer_is_read_whole(https_server, cluster_ca):
    response = FROM_CONTROL.get(f"https://127.0.0.1:{https_server.server_address[1]}/chunked",
                                tls=client_context(cluster_ca[1]))
    assert (response.status_code, response.text) == (200, "ray_node_cpu 1\nray_node_mem 2\n")


def test_a_server_certificate_of_another_ca_is_unreachable_naming_tls(ssh_host, https_server):
    host, _ = ssh_host
    other = client_context(_ca()[1])
    refused = "TLS to 127.0.0.1:.* from host worker-1 .*failed: SSLCertVerificationError"
    with pytest.raises(Unreachable, match=refused):
        through(host).get(f"https://127.0.0.1:{https_server.server_address[1]}/", tls=other)
    assert https_server.paths == []


def test_a_certificate_for_another_address_is_refused(tmp_path, cluster_ca):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*_server_files(tmp_path, cluster_ca, address="10.9.9.9", name="elsewhere"))
    httpd = _serve(_TLSServer(("127.0.0.2", 0), _Handler, context))
    try:
        with pytest.raises(Unreachable, match="SSLCertVerificationError.*127.0.0.2"):
            FROM_CONTROL.get(f"https://127.0.0.2:{httpd.server_address[1]}/",
                             tls=client_context(cluster_ca[1]))
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_client_certificate_is_shown_when_given(tmp_path, https_server, cluster_ca):
    seen = []
    original = _Handler.do_GET

    def do_get(handler):
        seen.append(handler.connection.getpeercert())
        original(handler)

    cert, key = _server_files(tmp_path, cluster_ca, name="control")
    _Handler.do_GET = do_get
    try:
        FROM_CONTROL.get(f"https://127.0.0.1:{https_server.server_address[1]}/api/gcs_healthz",
                         tls=client_context(cluster_ca[1], cert, key))
        FROM_CONTROL.get(f"https://127.0.0.1:{https_server.server_address[1]}/api/gcs_healthz",
                         tls=client_context(cluster_ca[1]))
    finally:
        _Handler.do_GET = original
    assert ("commonName", "control") in [pair for rdn in seen[0]["subject"] for pair in rdn]
    assert seen[1] in (None, {})


def test_a_refused_channel_is_not_also_logged_by_paramiko(ssh_host, caplog):
    host, _ = ssh_host
    with caplog.at_level("DEBUG", logger="paramiko.transport"):
        checks.poll("worker-1", "metrics", checks.probe_metrics(through(host), "127.0.0.1", 9), 0)
    assert not [r for r in caplog.records if "open FAILED" in r.getMessage()]


def test_an_ssh_host_not_connected_is_unreachable_never_tried_from_the_control_machine():
    reach = through(_Host("worker-2", _Connector(None)))
    assert reach is not FROM_CONTROL
    with pytest.raises(Unreachable, match="the SSH connection to worker-2 is closed"):
        reach.get("http://127.0.0.1:9/")

"""A TLS client session over any socket-like connection.

The checks reach endpoints through paramiko channels, which are not sockets:
`ssl.SSLContext.wrap_socket` needs a file descriptor. `ssl.SSLObject` with two
memory buffers speaks TLS over anything that has `sendall` and `recv`, so the
same code checks an HTTPS door and a TLS Redis through a host's SSH
connection or straight from the control machine.
"""

import io
import ssl


class TlsSession:
    """A connected TLS client on top of `raw` (sendall, recv, settimeout, close).

    The handshake runs in the constructor; a certificate the context refuses
    raises ssl.SSLCertVerificationError there.
    """

    def __init__(self, raw, context: ssl.SSLContext, server_hostname: str | None = None):
        self._raw = raw
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._incoming, self._outgoing, server_hostname=server_hostname)
        self._run(self._tls.do_handshake)

    def _flush(self) -> None:
        data = self._outgoing.read()
        if data:
            self._raw.sendall(data)

    def _run(self, step, *args):
        """Run one SSLObject step, feeding it from `raw` until it has what it needs."""
        while True:
            try:
                result = step(*args)
            except ssl.SSLWantReadError:
                self._flush()
                data = self._raw.recv(65536)
                if data:
                    self._incoming.write(data)
                else:
                    self._incoming.write_eof()
                continue
            self._flush()
            return result

    def sendall(self, data) -> None:
        view = memoryview(data)
        while view:
            view = view[self._run(self._tls.write, view):]

    def recv(self, size: int) -> bytes:
        try:
            return self._run(self._tls.read, size)
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            return b""

    def makefile(self, mode: str = "rb", buffering: int | None = None):
        if "b" not in mode or "w" in mode:
            raise ValueError(f"only binary reading is supported, not {mode!r}")
        return io.BufferedReader(_Reader(self))

    def peer_certificate(self) -> dict:
        return self._tls.getpeercert()

    def settimeout(self, timeout) -> None:
        self._raw.settimeout(timeout)

    def close(self) -> None:
        self._raw.close()


class _Reader(io.RawIOBase):
    def __init__(self, session: TlsSession):
        self._session = session

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._session.recv(len(buffer))
        buffer[:len(data)] = data
        return len(data)


def client_context(ca_cert_pem: str, cert_file: str | None = None,
                   key_file: str | None = None) -> ssl.SSLContext:
    """A client context that trusts only the cluster's CA (PEM text), with a client
    certificate when both files are given (Ray's and Redis' mutual TLS)."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cadata=ca_cert_pem)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if cert_file and key_file:
        context.load_cert_chain(cert_file, key_file)
    return context

"""A bastion that refuses us is one line naming the hop, before any host is
touched: tried against a real SSH server (paramiko's, on loopback)."""

import socket
import threading

import paramiko
import pytest
from pyinfra.api import Inventory

from seedcore.bastion import bastion_problems, first_hop

HOST_KEY = paramiko.RSAKey.generate(1024)
OTHER_KEY = paramiko.RSAKey.generate(1024)
CLIENT_KEY = paramiko.RSAKey.generate(1024)


class _Server(paramiko.ServerInterface):
    def get_allowed_auths(self, username):
        return "publickey"

    def check_auth_publickey(self, username, key):
        ok = username == "jump" and key.get_base64() == CLIENT_KEY.get_base64()
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED


@pytest.fixture
def bastion():
    """An SSH server on loopback that lets in user `jump` with CLIENT_KEY."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    transports = []

    def serve():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            transport = paramiko.Transport(conn)
            transport.add_server_key(HOST_KEY)
            transport.start_server(event=threading.Event(), server=_Server())
            transports.append(transport)

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()
    for transport in transports:
        transport.close()


def _config(tmp_path, port: int, user: str = "jump", known_key=HOST_KEY) -> str:
    key_file = tmp_path / "id_rsa"
    CLIENT_KEY.write_private_key_file(str(key_file))
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{port} ssh-rsa {known_key.get_base64()}\n")
    config = tmp_path / "ssh_config"
    config.write_text(
        f"Host jumpbox\n    HostName 127.0.0.1\n    Port {port}\n    User {user}\n"
        f"    IdentityFile {key_file}\n    IdentitiesOnly yes\n    UserKnownHostsFile {known}\n"
        "    StrictHostKeyChecking yes\n\n"
        "Host 10.0.0.*\n    ProxyJump jumpbox\n"
    )
    return str(config)


def _inventory(config: str) -> Inventory:
    hosts = [(name, {"ssh_hostname": ip, "ssh_config_file": config})
             for name, ip in (("head-1", "10.0.0.10"), ("worker-1", "10.0.0.11"))]
    return Inventory((hosts, {}), ray_head=(["head-1"], {}), ray_workers=(["worker-1"], {}))


def test_the_first_hop_is_read_from_the_hosts_ssh_config(tmp_path):
    config = _config(tmp_path, 2222)
    assert first_hop(config, "10.0.0.11") == "jumpbox"
    assert first_hop(config, "192.0.2.1") is None


def test_a_bastion_that_lets_us_in_is_no_problem(tmp_path, bastion):
    assert bastion_problems(_inventory(_config(tmp_path, bastion)), "inventories/prod.py") == []


def test_a_bastion_refusing_our_user_is_one_line_naming_the_hop_and_the_hosts(tmp_path, bastion):
    config = _config(tmp_path, bastion, user="deploy")
    (line,) = bastion_problems(_inventory(config), "inventories/prod.py")
    assert line.startswith(f"inventories/prod.py: the bastion jumpbox (ProxyJump of head-1, worker-1 in "
                           f"{config}) refused the login of user deploy")
    assert "check the user and key its Host entry gives" in line


def test_a_bastion_whose_host_key_changed_is_named_with_the_fix(tmp_path, bastion):
    (line,) = bastion_problems(_inventory(_config(tmp_path, bastion, known_key=OTHER_KEY)), "inv.py")
    assert "the bastion jumpbox" in line
    assert "presents a host key that does not match its known_hosts entry" in line


def test_a_bastion_nobody_answers_on_is_not_reachable(tmp_path):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    (line,) = bastion_problems(_inventory(_config(tmp_path, port)), "inv.py")
    assert "the bastion jumpbox" in line and "is not reachable (" in line

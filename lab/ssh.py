"""The lab's SSH key pair, its known_hosts file, and SSH checks against hosts."""

import shutil
import subprocess
from pathlib import Path

from lab.config import BASTION_ALIAS, KNOWN_HOSTS, LAB_DIR, SSH_CONFIG, SSH_KEY, SSH_USER, bastion_ip
from lab.errors import LabError


def require_tools() -> None:
    """Fail with one line unless the OpenSSH client tools are installed."""
    missing = [tool for tool in ("ssh", "ssh-keygen", "ssh-keyscan") if shutil.which(tool) is None]
    if missing:
        raise LabError(f"{', '.join(missing)} missing (package openssh-client): run scripts/ensure-docker.sh")


def ensure_keypair() -> Path:
    """Create `.lab/id_ed25519` (no passphrase) unless it exists; return its path."""
    require_tools()
    LAB_DIR.mkdir(parents=True, exist_ok=True)
    if not SSH_KEY.exists():
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "seedcore-lab", "-f", str(SSH_KEY)],
            check=True,
            capture_output=True,
        )
    return SSH_KEY


def public_key() -> str:
    return SSH_KEY.with_suffix(".pub").read_text().strip() + "\n"


def config_file() -> str:
    """The ssh config of a bastion lab (hosts through the bastion), else none."""
    return str(SSH_CONFIG) if SSH_CONFIG.exists() else "/dev/null"


def keyscan(ip: str, timeout: int = 3) -> list[str]:
    """The host's public keys as known_hosts lines; empty while sshd does not answer.
    On a bastion lab a host is scanned from the bastion (this machine cannot reach it)."""
    scan = ["ssh-keyscan", "-T", str(timeout), "-t", "ed25519,ecdsa,rsa", ip]
    if SSH_CONFIG.exists() and ip != bastion_ip():
        scan = ["ssh", "-F", str(SSH_CONFIG), "-o", "BatchMode=yes", BASTION_ALIAS, " ".join(scan)]
    try:
        result = subprocess.run(scan, capture_output=True, text=True, timeout=timeout * 4 + 15)
    except subprocess.TimeoutExpired:
        return []
    return [line for line in result.stdout.splitlines() if line and not line.startswith("#")]


def replace_known_hosts(scans: dict[str, list[str]], keep_others: bool = True) -> None:
    """Put each scanned IP's keys in `.lab/known_hosts`, dropping its old entries."""
    kept = []
    if keep_others and KNOWN_HOSTS.exists():
        kept = [
            line for line in KNOWN_HOSTS.read_text().splitlines() if line and line.split()[0] not in scans
        ]
    lines = kept + [line for ip in sorted(scans) for line in scans[ip]]
    KNOWN_HOSTS.write_text("\n".join(lines) + "\n" if lines else "")


def command(ip: str, remote: str = "", connect_timeout: int = 5, batch: bool = True) -> list[str]:
    """An `ssh` command line to the lab host at `ip`, host keys checked against the lab's file."""
    return [
        "ssh",
        "-F",
        config_file(),
        "-i",
        str(SSH_KEY),
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        f"BatchMode={'yes' if batch else 'no'}",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        f"UserKnownHostsFile={KNOWN_HOSTS}",
        "-o",
        f"ConnectTimeout={connect_timeout}",
        f"{SSH_USER}@{ip}",
        *([remote] if remote else []),
    ]


def check(ip: str, remote: str = "sudo -n true", connect_timeout: int = 5) -> bool:
    """True when `remote` succeeds over SSH as the lab user."""
    try:
        result = subprocess.run(
            command(ip, remote, connect_timeout), capture_output=True, timeout=connect_timeout + 15
        )
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0

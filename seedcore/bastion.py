"""The bastions hosts are reached through (ProxyJump in their `ssh_config_file`),
each tried once before pyinfra connects to any host.

pyinfra reports a bastion that refuses, or whose host key does not match, as
each host failing to connect, with paramiko's words and no mention of the
hop. Trying each distinct first hop here (one SSH login, the same way
pyinfra's SSH client makes it, through the same ssh config) turns that into
one line that names the hop, the hosts behind it and the fix, and the run
stops before any host is touched.
"""

import paramiko

# Seconds for the hop's TCP connect, banner and authentication each.
HOP_TIMEOUT_S = 10


def first_hop(config_path: str, hostname: str) -> str | None:
    """The first ProxyJump hop ssh config `config_path` gives `hostname`, or None."""
    entry = paramiko.SSHConfig.from_path(config_path).lookup(hostname)
    jump = (entry.get("proxyjump") or "").strip()
    if not jump or jump.lower() == "none":
        return None
    return jump.split(",")[0].strip()


def hop_problem(config_path: str, hop: str) -> str | None:
    """Why a login to `hop` (as ProxyJump writes it: [user@]host[:port]) fails, or None."""
    from seedcore.pyinfra_seam import SSHClient, get_ssh_config

    hostname, hop_config = SSHClient.derive_shorthand(get_ssh_config(config_path), hop)
    kwargs = {"timeout": HOP_TIMEOUT_S, "banner_timeout": HOP_TIMEOUT_S, "auth_timeout": HOP_TIMEOUT_S,
              **hop_config}
    client = SSHClient()
    try:
        client.connect(hostname, _pyinfra_ssh_config_file=config_path, **kwargs)
    except paramiko.BadHostKeyException as error:
        return (f"presents a host key that does not match its known_hosts entry ({error}): "
                "compare the bastion's fingerprint out of band, then fix the known_hosts file")
    except paramiko.AuthenticationException as error:
        return (f"refused the login of user {hop_config.get('username') or '(default)'} ({error}): "
                "check the user and key its Host entry gives")
    except paramiko.SSHException as error:
        return f"could not be logged in to ({error})"
    except OSError as error:
        return f"is not reachable ({type(error).__name__}: {error})"
    finally:
        client.close()
    return None


def bastion_problems(hosts, where: str) -> list[str]:
    """One line per first hop that fails, naming the hosts behind it; `hosts`
    are pyinfra hosts, `where` the inventory file (for the line)."""
    behind: dict[tuple[str, str], list[str]] = {}
    for host in hosts:
        config = host.data.get("ssh_config_file")
        if not isinstance(config, str) or not config:
            continue
        hop = first_hop(config, host.data.get("ssh_hostname") or host.name)
        if hop:
            behind.setdefault((config, hop), []).append(host.name)
    problems = []
    for (config, hop), names in behind.items():
        why = hop_problem(config, hop)
        if why:
            problems.append(f"{where}: the bastion {hop} (ProxyJump of {', '.join(names)} in {config}) {why}")
    return problems

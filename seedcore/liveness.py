"""A host that stops answering mid-run is given up, not waited on for ever.

Each connected host has a watcher (a greenlet) that every
`connection_alive_interval_s` asks its SSH connection for a new session, as
OpenSSH's ServerAliveInterval does. A host that runs a long command still
answers that at once; a frozen one (a paused VM, a cut cable) does not. After
`connection_alive_count_max` asks in a row without an answer, the watcher says
so and closes the connection: the command the host hangs in then fails, and
pyinfra names the host and the step, as for any other failure.
"""

from collections.abc import Callable

import gevent
from pyinfra import logger

from seedcore.pyinfra_seam import ssh_transport_of


def answers(transport, timeout_s: float) -> bool:
    """Whether the SSH server opens a session within `timeout_s` (closed at once)."""
    try:
        channel = transport.open_session(timeout=timeout_s)
    except Exception:  # paramiko: SSHException, EOFError, socket errors
        return False
    channel.close()
    return True


def watch_connection(name: str, transport, interval_s: float, count_max: int,
                     ask: Callable = answers, say: Callable[[str], None] = logger.error) -> bool:
    """Ask until the connection ends (True) or the host misses `count_max` asks in a
    row (False: the connection is closed, and `say` names the host and the wait)."""
    missed = 0
    while transport.is_active():
        gevent.sleep(interval_s)
        if not transport.is_active():
            return True
        missed = 0 if ask(transport, interval_s) else missed + 1
        if missed >= count_max:
            waited = int(interval_s * 2 * count_max)
            say(f"--> host {name}: no answer over SSH for about {waited} s ({count_max} asks, "
                f"{interval_s:g} s apart): a frozen host or a cut network; its connection is closed "
                "and the step it was in fails")
            transport.close()
            return False
    return True


def _bounded(value, default: int, low: int, high: int) -> int:
    """A setting as validation will take it (watchers start before validation speaks)."""
    return min(high, max(low, value)) if isinstance(value, int) and not isinstance(value, bool) else default


def watch_hosts(hosts, settings_of: Callable) -> list[gevent.Greenlet]:
    """Start the watcher of each host's SSH connection (hosts without one are skipped)."""
    watchers = []
    for host in hosts:
        transport = ssh_transport_of(host)
        if transport is None:
            continue
        settings = settings_of(host)
        interval = _bounded(settings.get("connection_alive_interval_s"), 15, 1, 600)
        count_max = _bounded(settings.get("connection_alive_count_max"), 4, 1, 100)
        watchers.append(gevent.spawn(watch_connection, host.name, transport, interval, count_max))
    return watchers

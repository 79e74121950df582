"""Daemons a test may start by the way (gpg starts its agent, ssh may start one) and must
not leave behind: the suite lists those running when it starts and when it ends."""

import os
import time
from pathlib import Path

# Process names (as /proc/PID/comm has them) of the daemons the suite must not leave behind.
WATCHED = frozenset({"gpg-agent", "dirmngr", "keyboxd", "scdaemon", "ssh-agent"})


def running(watched: frozenset[str] = WATCHED, proc: Path = Path("/proc")) -> dict[int, str]:
    """{pid: name} of this user's processes whose name is in `watched`."""
    found = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name = (entry / "comm").read_text().strip()
            owner = (entry / "status").stat().st_uid
            # A zombie has exited: it is gone once its parent reaps it.
            exited = "\nState:\tZ" in (entry / "status").read_text()
        except OSError:  # gone meanwhile
            continue
        if name in watched and owner == os.getuid() and not exited:
            found[int(entry.name)] = name
    return found


def left_behind(before: dict[int, str], after: dict[int, str]) -> list[str]:
    """The daemons running at the end that were not running at the start, one line each."""
    return [f"{name} (pid {pid})" for pid, name in sorted(after.items()) if pid not in before]


def left_after(before: dict[int, str], grace_s: float = 5.0) -> list[str]:
    """`left_behind` once daemons that were told to stop (`gpgconf --kill` returns before
    the agent exits) have had `grace_s` seconds to go."""
    deadline = time.monotonic() + grace_s
    while True:
        left = left_behind(before, running())
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.1)

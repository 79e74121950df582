"""One deploy at a time: a lock directory on the head host.

Every entry point that changes hosts takes it right after preflight (before
any operation runs) with one direct command: `mkdir` is atomic, so of two
runs only one creates the directory; the owner file inside says who holds it,
from which machine, since when. A second run is refused at once with that
line. The lock is released when pyinfra disconnects from the head, which it
does at the end of every run: success, failure, a refused confirmation or
Ctrl-C. `--dry` and deploy/verify.py take no lock.

A lock whose holder is gone (its process no longer runs on this machine, or
it is older than STALE_AFTER_S) is not taken over: the refusal says how to
clear it.
"""

import getpass
import json
import os
import shlex
import socket
import sys
import time
import uuid

import click
from pyinfra.api.exceptions import PyinfraError

from seedcore.commands import bounded
from seedcore.pyinfra_seam import before_disconnect
from seedcore.run_context import run_of
from seedcore.sudo import sudo_args
from seedcore.topology import head_host, settings_for

LOCK_NAME = "deploy.lock"
OWNER_FILE = "owner"
# A deploy never legitimately runs this long: past it, a held lock is called stale.
STALE_AFTER_S = 6 * 3600
# Reading the owner file is one `cat`: past this, the head is not answering.
READ_TIMEOUT_S = 20


class LockHeld(PyinfraError):
    """Another run holds the deploy lock; nothing was changed."""


def lock_dir(settings: dict) -> str:
    return f"{settings['ray_project_dir']}/{LOCK_NAME}"


def owner_record(token: str, now: float | None = None) -> dict:
    return {
        "token": token,
        "user": getpass.getuser(),
        "machine": socket.gethostname(),
        "pid": os.getpid(),
        "since": int(now if now is not None else time.time()),
        "command": " ".join(["pyinfra", *sys.argv[1:]]),
    }


def take_command(directory: str, record: dict) -> str:
    """Create the lock dir and its owner file, or print `held` and the owner line."""
    path = shlex.quote(directory)
    owner = shlex.quote(f"{directory}/{OWNER_FILE}")
    line = shlex.quote(json.dumps(record, sort_keys=True))
    parent = shlex.quote(os.path.dirname(directory) or "/")
    return (
        f"mkdir -p {parent} && if mkdir {path} 2>/dev/null; "
        f"then printf '%s\\n' {line} > {owner} && echo taken; "
        f"else echo held; cat {owner} 2>/dev/null || true; fi"
    )


def release_command(directory: str, token: str) -> str:
    """Remove the lock dir only if this run's token is in its owner file."""
    path = shlex.quote(directory)
    owner = shlex.quote(f"{directory}/{OWNER_FILE}")
    return f"if grep -qF {shlex.quote(token)} {owner} 2>/dev/null; then rm -rf {path}; fi"


def parse_owner(lines: list[str]) -> dict | None:
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            return record
    return None


def _pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def holder_gone(record: dict, now: float, machine: str, pid_gone=_pid_gone) -> str | None:
    """Why the holder of a lock is gone, or None while it may still run."""
    age = now - int(record.get("since", 0))
    if age > STALE_AFTER_S:
        return f"it is {int(age // 3600)}h old (more than {STALE_AFTER_S // 3600}h)"
    if record.get("machine") == machine and pid_gone(int(record.get("pid", 0))):
        return f"pid {record.get('pid')} no longer runs on {machine}"
    return None


def holder_text(record: dict) -> str:
    """Who holds the lock, from its owner file: user@machine (pid) since when, running what."""
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(record.get("since", 0))))
    return (
        f"{record.get('user')}@{record.get('machine')} (pid {record.get('pid')}) since {since}, "
        f"running `{record.get('command')}`"
    )


def read_command(directory: str) -> str:
    """Print the owner file of the lock, if one is held (nothing otherwise); bounded."""
    owner = shlex.quote(f"{directory}/{OWNER_FILE}")
    return bounded(f"cat {owner} 2>/dev/null || true", READ_TIMEOUT_S, "reading the deploy lock's owner file")


def deploy_running(state) -> str:
    """Who holds the deploy lock now, when this run does not hold it ("" when no one):
    verify says its verdict was taken during that deploy."""
    if run_of(state).lock is not None:
        return ""
    head = head_host(state.inventory)
    if head is None:
        return ""
    ok, output = head.run_shell_command(read_command(lock_dir(settings_for(head))), **sudo_args(head))
    record = parse_owner([line.strip() for line in output.stdout_lines]) if ok else None
    return holder_text(record) if record else ""


def held_message(head: str, directory: str, record: dict | None, now: float, machine: str,
                 pid_gone=_pid_gone) -> str:
    clear = f"ssh to {head} and run `sudo rm -rf {directory}`, then run again"
    if record is None:
        return (
            f"host {head}: the deploy lock {directory} exists without a readable owner: "
            f"if no deploy is running, {clear}; nothing was changed"
        )
    holder = holder_text(record)
    gone = holder_gone(record, now, machine, pid_gone)
    if gone:
        return (
            f"host {head}: the deploy lock {directory} is held by {holder}, and that holder is gone "
            f"({gone}): if no deploy is running, {clear}; nothing was changed"
        )
    return (
        f"host {head}: another deploy holds the lock {directory}: {holder}; "
        "wait for it to finish; nothing was changed"
    )


def is_dry() -> bool:
    context = click.get_current_context(silent=True)
    if context is not None and "dry" in context.params:
        return bool(context.params["dry"])
    return "--dry" in sys.argv


def hold_lock(state) -> None:
    """Take the cluster's deploy lock on the head, once per run; raise LockHeld if
    another run holds it. A no-op under --dry."""
    if is_dry():
        return
    # pyinfra loads the deploy file for all hosts at once: one of them takes the lock.
    run = run_of(state)
    with run.lock_gate:
        if isinstance(run.lock, LockHeld):
            raise run.lock
        if run.lock is None:
            try:
                _take(state)
            except LockHeld as refusal:
                run.lock = refusal
                raise


def _take(state) -> None:
    head = head_host(state.inventory)
    directory = lock_dir(settings_for(head))
    token = uuid.uuid4().hex
    ok, output = head.run_shell_command(take_command(directory, owner_record(token)),
                                        **sudo_args(head))
    lines = [line.strip() for line in output.stdout_lines]
    if not ok or not lines:
        raise LockHeld(
            f"host {head.name}: could not take the deploy lock {directory}: "
            f"{output.stderr.strip() or 'no answer'}; nothing was changed"
        )
    if lines[0] != "taken":
        raise LockHeld(held_message(head.name, directory, parse_owner(lines[1:]), time.time(),
                                    socket.gethostname()))
    run_of(state).lock = (head, directory, token)
    _release_on_disconnect(head, directory, token)


def _release_on_disconnect(head, directory: str, token: str) -> None:
    """pyinfra disconnects from every host at the end of a run, whatever its
    outcome: release the lock just before the head's connection closes."""
    before_disconnect(head, lambda: release(head, directory, token))


def release(head, directory: str, token: str) -> bool:
    """Release the lock; once more over a fresh SSH connection when the run's
    own was cut (an interrupt can land in the middle of its traffic). When
    both fail, say so with how to clear it, and never raise: pyinfra is
    closing every connection."""
    error: Exception | None = None
    for fresh in (False, True):
        try:
            if fresh:
                head.connector.connect()
            ok, output = head.run_shell_command(release_command(directory, token), **sudo_args(head))
            if ok:
                return True
            error = RuntimeError(output.stderr.strip() or "the release command failed")
        except Exception as failure:  # any failure here would leave the lock behind
            error = failure
    click.echo(
        f"--> host {head.name}: could not release the deploy lock {directory} ({error}); "
        f"ssh to {head.name} and run `sudo rm -rf {directory}` once no deploy is running",
        err=True,
    )
    return False

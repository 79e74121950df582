"""Every use of pyinfra beyond its documented operations, facts, deploys and
callbacks, in one module: what else in deploy/ needs of pyinfra's insides it
asks here. pyinfra's next version is checked here first
(tests/unit/test_pyinfra_seam.py runs each against pyinfra itself).

What is used, and why:
- the operation order (below): `--dry` and a run on many hosts, measured;
- the facts pyinfra's own operations read (``feed_facts``, below): answered
  from the run's snapshot of the host, measured;
- pyinfra's own helpers, re-exported so no module imports them itself:
  `apt_repos` (apt.sources_file's comparison of deb822 sources),
  `fact_kwargs_text` (how pyinfra names a fact with arguments), the SSH
  client and ssh_config reader its connector uses (the bastion pre-check
  logs in exactly as the run will);
- what a run exposes on its objects: an operation's outcome on a host, the
  parallelism it was given, the SSH client of a host's connection (checks
  travel through it), a step just before a host's connection closes (the
  deploy lock is released there, whatever the run's outcome), and the
  interrupt handler that names what was mid-operation;
- pyinfra's command line around the plan: an operation that only reads
  (verify's checks) shown as no change, the confirmation pyinfra asks before
  running (not asked when nothing would change), and the exit code it gives
  (a red check counts as a failed host there, without failing it mid-run).

The operation order. In CLI mode pyinfra orders each operation by the line numbers of the calls
that led to it (``pyinfra.api.util.get_operation_order_from_stack``). It takes
them from ``inspect.stack()``, which also reads each frame's source line and
looks its module up among every module loaded: about 4 ms per operation here,
for about 30 operations per host, the largest part of `--dry` that grows with
hosts. The file name and line number it keeps are on each frame already
(``f_code.co_filename`` and ``f_lineno``, what ``inspect.getframeinfo`` returns
for a frame). ``install()`` puts this reading in pyinfra's place for the
pyinfra versions it was checked against; tests/unit/test_pyinfra_seam.py checks
that both give the same order.
"""

import signal
import sys
from collections.abc import Callable
from importlib import import_module

import pyinfra
from pyinfra.api.exceptions import PyinfraError
from pyinfra.api.util import PYINFRA_INSTALL_DIR, get_kwargs_str, log_error_or_warning
from pyinfra.connectors.sshuserclient.client import SSHClient, get_ssh_config
from pyinfra.facts.apt import AptSourcesFile
from pyinfra_cli.exceptions import CliError

from seedcore.run_context import run_of

__all__ = [
    "SSHClient", "apt_repos", "before_disconnect", "fact_kwargs_text", "fail_host",
    "feed_facts", "get_ssh_config", "install_operation_order", "on_interrupt",
    "operation_done", "operation_order", "operation_stderr", "parallel_limit", "read_itself",
    "read_itself_of", "ssh_client_of", "has_ssh_client", "read_only", "is_change", "planned_ops",
    "on_confirm", "before_exit", "count_as_failed", "CliRefusal", "dry_run", "failed_hosts",
]

# An error pyinfra's command line prints as its message alone ("--> pyinfra error: ..."),
# without the file and line it was raised at (what it prints for any other PyinfraError).
CliRefusal = CliError

# pyinfra releases whose get_operation_order_from_stack this reproduces.
CHECKED_PYINFRA = ("3.10.0",)


def operation_order(state) -> list[int]:
    """The line numbers pyinfra orders an operation by, as its own
    get_operation_order_from_stack computes them, for its caller's stack."""
    frames = []
    frame = sys._getframe(1)
    while frame is not None:
        frames.append(frame)
        frame = frame.f_back
    frames.reverse()

    # From the outermost frame of the deploy file pyinfra is loading (the
    # last frame when it is not on the stack, as in pyinfra).
    start = 0
    if state.current_deploy_filename:
        names = [frame.f_code.co_filename for frame in frames]
        wanted = state.current_deploy_filename
        start = names.index(wanted) if wanted in names else len(frames) - 1

    line_numbers = [state.current_op_file_number] if pyinfra.is_cli else []
    line_numbers += [
        frame.f_lineno for frame in frames[start:]
        if not frame.f_code.co_filename.startswith(PYINFRA_INSTALL_DIR)
    ]
    return line_numbers


def install_operation_order() -> bool:
    """Use operation_order in pyinfra's place; False (pyinfra's own kept) for a
    pyinfra version it was not checked against."""
    if pyinfra.__version__ not in CHECKED_PYINFRA:
        return False
    import_module("pyinfra.api.operation").get_operation_order_from_stack = operation_order
    return True


# Feeding the facts pyinfra's operations read. pyinfra 3 keeps no fact cache:
# every `host.get_fact` an operation makes is one command over SSH, and each
# operation reads its facts twice in a run (once to plan, once as it executes).
# A host's snapshot (seedcore/hostfacts.py) reads the facts the deploy's steps
# decide with in one command per host; `feed_facts` makes `host.get_fact`, the
# one door pyinfra's operations read facts through, answer from it while it
# holds (the snapshot reads a fact again after a step changed the host). The
# operations themselves (apt.packages, files.put, systemd.service, ...) are
# pyinfra's own, unchanged. Without it, each of the ~30 operations per host
# reads its facts with commands of its own, twice per run (see
# tests/unit/test_pyinfra_seam.py: with the feed, planning them runs none).
# Measured on a 3-host lab (2 cores, load 2-6 from other work; `make bench
# BENCH_ARGS="--only noop --merge --repeat 5"`, median of 5): the no-op re-run
# took 2.12-2.68 s with the feed (3.13 s once at load 5) and 6.04 s without it
# (plan 0.2 s -> 1.0 s, the file steps 0.01 s -> 1.1 s, Docker's 0.01 s ->
# 0.5 s); no container restarted either way. pyinfra's own `exec -- true` took
# 0.75-0.92 s then. With the feed a no-op run opens the same SSH sessions as the
# hand-made clones did (`python -m bench.exchanges`: 4, 3 and 3 on the hosts).


def feed_facts(host, answer: Callable) -> None:
    """Make `host.get_fact(cls, **kwargs)` return `answer(cls, kwargs)`, for
    this host only. A read with positional arguments or pyinfra's own global
    arguments (`_sudo`, ...) is pyinfra's as before. `read_itself` still reads
    with pyinfra's own get_fact (what `answer` falls back to)."""
    own = read_itself_of(host)

    def get_fact(cls, *args, **kwargs):
        if args or any(key.startswith("_") for key in kwargs):
            return own(cls, *args, **kwargs)
        return answer(cls, kwargs)

    get_fact.pyinfra_own = own
    host.get_fact = get_fact


def read_itself_of(host) -> Callable:
    """The host's get_fact as pyinfra made it (past any feed_facts)."""
    return getattr(host.get_fact, "pyinfra_own", host.get_fact)


def read_itself(host, cls, kwargs: dict):
    """`cls` read on `host` by pyinfra itself: one command, past any feed_facts."""
    return read_itself_of(host)(cls, **kwargs)


def fail_host(host, line: str) -> None:
    """Fail `host` as pyinfra's get_fact fails a host whose fact could not be
    loaded: its error line (``[host] Error: LINE``), then the host is failed.
    pyinfra's "No hosts remaining!" is left to its executor, which stops then
    anyway: a run that is being checked (preflight) names every host first."""
    log_error_or_warning(host, False, description=line)
    try:
        host.state.fail_hosts({host})
    except PyinfraError:
        # fail_hosts has failed the host before it raises (no active host left, or
        # over the run's fail percent); the executor refuses to go on either way.
        pass


def fact_kwargs_text(kwargs: dict) -> str:
    return get_kwargs_str(kwargs)


def apt_repos(**source) -> list:
    """The repositories a deb822 source holds, as apt.sources_file compares them."""
    return AptSourcesFile(**source).expand_to_repos()


def _meta(state, host, op_hash: str):
    """pyinfra's OperationMeta of one operation on `host` (None: not one of its operations)."""
    data = state.ops.get(host, {}).get(op_hash)
    return None if data is None else data.operation_meta


def operation_done(state, host, op_hash: str) -> tuple[bool, bool]:
    """(finished on `host`, ran commands there) of one operation."""
    meta = _meta(state, host, op_hash)
    if meta is None or not meta.is_complete():
        return False, False
    return True, bool(meta.executed)


def operation_stderr(state, host, op_hash: str) -> list[str]:
    """The stderr lines of one finished operation on `host` ([] when not finished)."""
    meta = _meta(state, host, op_hash)
    return list(meta.stderr_lines) if meta is not None and meta.is_complete() else []


def parallel_limit(state, hosts: int) -> int:
    """How many hosts at once this run allows (pyinfra's --parallel), at least 1."""
    return max(1, min(hosts, state.config.PARALLEL or hosts))


def ssh_client_of(host):
    """The paramiko client of pyinfra's SSH connection to `host` (None while not
    connected); AttributeError for a connector that is not SSH (@local, @fake)."""
    return host.connector.client


def has_ssh_client(host) -> bool:
    return hasattr(getattr(host, "connector", None), "client")


def before_disconnect(host, step: Callable[[], None]) -> None:
    """Run `step` just before pyinfra closes its connection to `host`. pyinfra
    disconnects every host at the end of every run, whatever its outcome (an
    error, a failed host, Ctrl-C), and has no callback for it: the connector's
    own disconnect is wrapped, for this host only."""
    connector = host.connector
    close = getattr(connector, "disconnect", None)

    def disconnect():
        try:
            step()
        finally:
            if close:
                close()

    connector.disconnect = disconnect


def ssh_transport_of(host):
    """The paramiko Transport of the host's SSH connection, or None (not connected,
    or a connector that is not SSH)."""
    try:
        client = ssh_client_of(host)
    except AttributeError:
        return None
    return client.get_transport() if client is not None else None


# The signals that stop a run: Ctrl-C, and what a CI cancel or `timeout` sends.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def on_interrupt(handler: Callable[[int], None]) -> bool:
    """Call `handler(signum)` on Ctrl-C or SIGTERM, in place of pyinfra's own
    message (which cannot name the host mid-operation) and of SIGTERM's default
    (which ends the process at once, before the deploy lock is released). Only
    from the main thread: an API caller in another thread keeps its own
    handlers (returns False then)."""
    try:
        for signum in STOP_SIGNALS:
            signal.signal(signum, lambda number, frame: handler(number))
    except ValueError:
        return False
    return True


# pyinfra's command line around the plan. pyinfra counts every operation that
# yields a command as a change (python.call always does), asks for a
# confirmation whenever a deploy file planned operations, and exits non-zero
# only for a failed host: a failed host is also dropped from the rest of the
# run, with a traceback for an exception and "No hosts remaining!" when it was
# the last one. The run's own answers are kept in its RunContext.


def read_only(meta) -> None:
    """Show the operation of `meta` (what an operation call returns) as no change:
    it only reads (checks), whatever it will run."""
    if meta is not None:
        meta._maybe_is_change = False


def is_change(state, host, op_hash: str) -> bool:
    """Whether the planned operation would, or might (under `_if`), change `host`."""
    data = state.ops.get(host, {}).get(op_hash)
    return bool(data is not None and data.operation_meta._maybe_is_change)


def planned_ops(state) -> list[tuple]:
    """(host, op_hash, operation name) of every planned operation, in pyinfra's order."""
    found = []
    for op_hash in state.get_op_order():
        name = ", ".join(sorted(state.get_op_meta(op_hash).names)) or op_hash
        for host in state.inventory.iter_activated_hosts():
            if op_hash in state.ops.get(host, {}):
                found.append((host, op_hash, name))
    return found


def _real(state):
    """The State itself behind pyinfra's context object (`from pyinfra import state`)."""
    unwrap = getattr(type(state), "_get_module", None)
    return unwrap(state) if unwrap else state


def _run_step(state, name: str):
    return None if state is None else getattr(run_of(state), name)


def _cli():
    return sys.modules.get("pyinfra_cli.cli")


def _current_state():
    from pyinfra.context import ctx_state

    return ctx_state.get() if ctx_state.isset() else None


def _wrap_cli() -> bool:
    """Put the run's own steps around pyinfra's confirmation and exit (once per process)."""
    cli = _cli()
    if cli is None or not hasattr(cli, "_do_confirm") or not hasattr(cli, "_exit"):
        return False
    if getattr(cli._do_confirm, "seedcore_wrapped", False):
        return True
    confirm, leave = cli._do_confirm, cli._exit

    def do_confirm(message: str) -> bool:
        answer = _run_step(_current_state(), "confirm_answer")
        decided = answer(message) if answer else None
        return confirm(message) if decided is None else decided

    def exit_run() -> None:
        step = _run_step(_current_state(), "before_exit")
        if step:
            step()
        leave()

    do_confirm.seedcore_wrapped = True
    cli._do_confirm, cli._exit = do_confirm, exit_run
    return True


def on_confirm(state, answer: Callable[[str], bool | None]) -> bool:
    """Before pyinfra asks `message` on its command line, `answer(message)`:
    True/False answers it, None lets pyinfra ask. False when not run by pyinfra's CLI."""
    if not _wrap_cli():
        return False
    run_of(_real(state)).confirm_answer = answer
    return True


def before_exit(state, step: Callable[[], None]) -> bool:
    """Run `step` just before pyinfra's command line decides its exit code (after its
    results table; `step` may exit itself). False when not run by pyinfra's CLI."""
    if not _wrap_cli():
        return False
    run_of(_real(state)).before_exit = step
    return True


def count_as_failed(state, hosts) -> None:
    """Count `hosts` as failed for the run's exit code only (they are not dropped)."""
    _real(state).failed_hosts.update(hosts)


def dry_run() -> bool | None:
    """Whether pyinfra's command line was given --dry (None: not run by pyinfra's CLI).
    Read from its arguments: the deploy runs in pyinfra's greenlets, where click's
    own context is not at hand."""
    if not pyinfra.is_cli:
        return None
    return "--dry" in sys.argv[1:]


def failed_hosts(state) -> list[str]:
    """The names of the hosts this run has failed so far."""
    return sorted(host.name for host in _real(state).failed_hosts)

"""seedcore/pyinfra_seam.py against pyinfra itself: the operation order it computes, read from
the frames, and every other name of pyinfra's insides the deploy relies on."""

import inspect
import re
import sys
from importlib import import_module
from pathlib import Path
from types import SimpleNamespace

import pyinfra
import pytest
from pyinfra.api import util as pyinfra_util

from seedcore import pyinfra_seam as seam

OPERATION = import_module("pyinfra.api.operation")
ROOT = Path(__file__).resolve().parents[2]


def _order(reader, state, monkeypatch) -> tuple:
    # Through pyinfra's own caller, so the frames above the reader are pyinfra's.
    monkeypatch.setattr(OPERATION, "get_operation_order_from_stack", reader)
    host = SimpleNamespace(op_hash_order=[], loop_position=[])
    order, _ = OPERATION.solve_operation_consistency({"an operation"}, state, host)
    return order


def _both(state, monkeypatch) -> list[tuple]:
    return [_order(reader, state, monkeypatch)
            for reader in (pyinfra_util.get_operation_order_from_stack, seam.operation_order)]


def _deploy_code(state, monkeypatch) -> list[tuple]:
    # As a deploy file calls an operation from inside its own functions.
    def nested():
        return _both(state, monkeypatch)
    return nested()


@pytest.mark.parametrize("deploy_file", [__file__, None, "deploy/not_on_the_stack.py"],
                         ids=["deploy file on the stack", "no deploy file", "deploy file not on the stack"])
def test_the_order_is_pyinfras_own(monkeypatch, deploy_file):
    monkeypatch.setattr(pyinfra, "is_cli", True)
    state = SimpleNamespace(current_deploy_filename=deploy_file, current_op_file_number=3)
    theirs, ours = _deploy_code(state, monkeypatch)
    assert ours == theirs
    assert theirs[0] == 3


def test_the_order_names_the_lines_of_the_calls_in_the_deploy_file(monkeypatch):
    monkeypatch.setattr(pyinfra, "is_cli", True)
    state = SimpleNamespace(current_deploy_filename=__file__, current_op_file_number=0)
    call = sys._getframe().f_lineno + 1
    theirs, ours = _deploy_code(state, monkeypatch)
    # The file number, then the line of each call from the deploy file's
    # outermost frame inwards: this test's first.
    assert ours == theirs
    assert ours[:2] == (0, call)
    assert ours[2] == _deploy_code.__code__.co_firstlineno + 4


def test_it_is_installed_for_the_pinned_pyinfra_only(monkeypatch):
    monkeypatch.setattr(OPERATION, "get_operation_order_from_stack",
                        pyinfra_util.get_operation_order_from_stack)
    monkeypatch.setattr(pyinfra, "__version__", "0.0.0")
    assert seam.install_operation_order() is False
    assert OPERATION.get_operation_order_from_stack is pyinfra_util.get_operation_order_from_stack
    monkeypatch.setattr(pyinfra, "__version__", seam.CHECKED_PYINFRA[0])
    assert seam.install_operation_order() is True
    assert OPERATION.get_operation_order_from_stack is seam.operation_order


def test_the_pinned_pyinfra_is_one_it_was_checked_against():
    pinned = next(line.split("==")[1].strip() for line in open("requirements.txt")
                  if line.startswith("pyinfra=="))
    assert pinned in seam.CHECKED_PYINFRA


# Names of pyinfra's insides: only seedcore/pyinfra_seam.py may use them.
INSIDES = re.compile(
    r"pyinfra\.api\.util|pyinfra\.operations\.util\.files|pyinfra\.connectors"
    r"|from pyinfra.* noninteractive_apt"
    r"|generate_color_diff|\.expand_to_repos|get_kwargs_str|operation_meta|config\.PARALLEL"
    r"|connector\.client|\.disconnect = |signal\.signal|get_operation_order_from_stack|sys\._getframe")
SEAM = ROOT / "seedcore" / "pyinfra_seam.py"


def test_no_module_but_the_seam_reaches_into_pyinfra():
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
             for package in ("seedcore", "deploy") for path in sorted((ROOT / package).rglob("*.py"))
             if path != SEAM
             for number, line in enumerate(path.read_text().splitlines(), 1)
             if INSIDES.search(line) and not line.lstrip().startswith("#")]
    assert found == []


def test_pyinfras_operation_meta_has_what_the_seam_reads():
    from pyinfra.api.operation import OperationMeta

    meta = OperationMeta("hash", [])
    assert meta.is_complete() is False
    for name in ("executed", "stderr_lines"):
        assert hasattr(OperationMeta, name)
    state = SimpleNamespace(ops={"host": {"op": SimpleNamespace(operation_meta=meta)}})
    assert seam.operation_done(state, "host", "op") == (False, False)
    assert seam.operation_done(state, "other", "op") == (False, False)
    assert seam.operation_stderr(state, "host", "op") == []


def test_pyinfras_ssh_connector_keeps_its_client_and_disconnects_by_method():
    from pyinfra.connectors.ssh import SSHConnector

    assert "self.client" in inspect.getsource(SSHConnector)
    assert callable(SSHConnector.disconnect)
    assert not seam.has_ssh_client(SimpleNamespace(connector=object()))
    assert seam.has_ssh_client(SimpleNamespace(connector=SimpleNamespace(client=None)))


def test_a_step_runs_before_the_connection_closes_even_when_it_fails():
    closed = []

    class Connector:
        def disconnect(self):
            closed.append("closed")

    host = SimpleNamespace(connector=Connector())

    def step():
        closed.append("released")
        raise RuntimeError("the head did not answer")

    seam.before_disconnect(host, step)
    with pytest.raises(RuntimeError):
        host.connector.disconnect()
    assert closed == ["released", "closed"]


def test_pyinfras_parallel_setting_bounds_the_pool():
    from pyinfra.api.config import Config

    assert seam.parallel_limit(SimpleNamespace(config=Config()), 7) == 7
    assert seam.parallel_limit(SimpleNamespace(config=Config(PARALLEL=3)), 7) == 3
    assert seam.parallel_limit(SimpleNamespace(config=Config(PARALLEL=3)), 0) == 1


def test_apt_repos_compares_deb822_sources_as_pyinfra_does():
    repos = seam.apt_repos(types=["deb"], uris=["http://mirror/debian"], suites=["bookworm"],
                               components=["stable"], architectures=None, signed_by=["/etc/k.gpg"])
    assert len(repos) == 1 and repos[0].url == "http://mirror/debian"


@pytest.mark.parametrize("line", [
    "from pyinfra.api.util import get_kwargs_str",
    "from pyinfra.facts.apt import AptSources, noninteractive_apt",
    "meta = data.operation_meta", "connector.disconnect = disconnect", "signal.signal(signal.SIGINT, h)",
    "return host.connector.client", "Pool(state.config.PARALLEL)",
])
def test_the_guard_sees_a_reach_into_pyinfra(line):
    assert INSIDES.search(line)


# Facts fed from the snapshot: pyinfra's own operations, on a real pyinfra host
# (@local, this machine), read the same facts whether pyinfra reads them itself
# or the snapshot answers them.
def _local_host():
    from pyinfra.api import Config, Inventory, State
    from pyinfra.api.connect import connect_all

    inventory = Inventory((["@local"], {}))
    state = State(inventory, Config())
    connect_all(state)
    return state, inventory.get_host("@local")


def _planned(state, host, op, **kwargs) -> list[str]:
    from pyinfra.context import ctx_host, ctx_state

    with ctx_state.use(state), ctx_host.use(host):
        return [f"upload to {command.dest}" if hasattr(command, "dest") else str(command)
                for command in op._inner(**kwargs)]


def _steps(tmp_path) -> list:
    from io import StringIO

    from pyinfra.operations import files

    (tmp_path / "same.txt").write_text("kept\n")
    (tmp_path / "old.txt").write_text("old\n")
    (tmp_path / "gone.txt").write_text("x\n")
    return [
        (files.put, {"src": StringIO("kept\n"), "dest": str(tmp_path / "same.txt"), "mode": "644"}),
        (files.put, {"src": StringIO("new\n"), "dest": str(tmp_path / "old.txt")}),
        (files.put, {"src": StringIO("new\n"), "dest": str(tmp_path / "sub" / "missing.txt")}),
        (files.directory, {"path": str(tmp_path / "sub"), "mode": "750"}),
        (files.directory, {"path": str(tmp_path)}),
        (files.file, {"path": str(tmp_path / "gone.txt"), "present": False}),
    ]


def _counting_commands(host, monkeypatch) -> list:
    ran = []
    run = host.run_shell_command

    def counted(*args, **kwargs):
        ran.append(args)
        return run(*args, **kwargs)

    monkeypatch.setattr(host, "run_shell_command", counted)
    return ran


def test_pyinfras_operations_fed_by_the_snapshot_plan_as_when_they_read_the_facts(tmp_path, monkeypatch):
    from seedcore.hostfacts import file_reads, read_bundle

    state, host = _local_host()
    ran = _counting_commands(host, monkeypatch)
    theirs = [_planned(state, host, op, **kwargs) for op, kwargs in _steps(tmp_path)]
    assert len(ran) >= len(theirs), "pyinfra read each fact with a command of its own"
    paths = [str(tmp_path / name) for name in ("same.txt", "old.txt", "sub/missing.txt", "gone.txt", "sub")]
    read_bundle(host, [read for path in paths for read in file_reads(path)])  # feeds the host's get_fact
    ran.clear()
    ours = [_planned(state, host, op, **kwargs) for op, kwargs in _steps(tmp_path)]
    assert ours == theirs
    assert ran == [], "every fact the operations read came from the snapshot"


def test_the_feed_keeps_pyinfras_own_read_and_passes_global_arguments_through():
    calls = []

    class Host:
        def get_fact(self, cls, *args, **kwargs):
            calls.append(("pyinfra", cls, args, kwargs))
            return "read"

    host = Host()
    seam.feed_facts(host, lambda cls, kwargs: ("fed", cls, kwargs))
    assert host.get_fact(int, path="/x") == ("fed", int, {"path": "/x"})
    assert host.get_fact(int, "/x") == "read"
    assert host.get_fact(int, path="/x", _sudo=True) == "read"
    assert seam.read_itself(host, int, {"path": "/y"}) == "read"
    # Fed again (a new snapshot): still one layer over pyinfra's own.
    seam.feed_facts(host, lambda cls, kwargs: "fed again")
    assert (host.get_fact(int), seam.read_itself(host, int, {})) == ("fed again", "read")
    assert len(calls) == 4


@pytest.mark.parametrize(("signum", "by", "status"), [(2, "Ctrl-C", 130), (15, "SIGTERM", 143)],
                         ids=["SIGINT", "SIGTERM"])
def test_a_run_stopped_by_a_signal_says_so_and_unwinds_so_its_lock_is_released(tmp_path, signum, by, status):
    """Both Ctrl-C and SIGTERM (a CI cancel, `timeout`) reach the run's handler, which
    exits by unwinding: what runs on the way out (pyinfra disconnecting from the head,
    which releases the deploy lock) still runs. SIGTERM's default would end the process
    where it stands."""
    import subprocess

    released = tmp_path / "released"
    script = (
        "import os, signal, sys, time\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from seedcore import pyinfra_seam, runwatch\n"
        "from types import SimpleNamespace\n"
        "runwatch.changed_hosts = lambda state: ([], ['head-1'])\n"
        "pyinfra_seam.on_interrupt(lambda number: runwatch.interrupted(None, number))\n"
        "try:\n"
        "    print('ready', flush=True)\n"
        "    time.sleep(30)\n"
        "finally:\n"
        f"    open({str(released)!r}, 'w').write('released')\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    assert child.stdout.readline().strip() == "ready"
    child.send_signal(signum)
    _, err = child.communicate(timeout=20)
    assert child.returncode == status
    assert f"Interrupted ({by}): interrupted in the middle of an operation: head-1" in err
    assert released.read_text() == "released"


def test_pyinfras_command_line_has_what_the_seam_wraps():
    from pyinfra.api.operation import OperationMeta
    from pyinfra_cli import cli

    assert callable(cli._do_confirm) and callable(cli._exit)
    meta = OperationMeta("hash", True)
    seam.read_only(meta)
    assert meta.will_change is False


def test_a_dry_run_is_read_from_pyinfras_command_line(monkeypatch):
    from pyinfra_cli import cli

    # pyinfra's option is spelt --dry; an API run (not the CLI) has no such option.
    assert any("--dry" in option.opts for option in cli.cli.params)
    monkeypatch.setattr(pyinfra, "is_cli", True)
    monkeypatch.setattr(sys, "argv", ["pyinfra", "inventory.py", "deploy/cluster.py", "--dry"])
    assert seam.dry_run() is True
    monkeypatch.setattr(sys, "argv", ["pyinfra", "inventory.py", "deploy/cluster.py", "-y"])
    assert seam.dry_run() is False
    monkeypatch.setattr(pyinfra, "is_cli", False)
    assert seam.dry_run() is None

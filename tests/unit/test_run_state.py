"""One process, two runs: each run keeps its own RunContext (seedcore/run_context.py),
so the second run checks, verifies and reports again; nothing of a run is hung on
pyinfra's State or kept in a module's globals."""

import ast
import json
import re
from pathlib import Path

import pytest

from seedcore import checks
from seedcore.outcome import red_hosts
from seedcore.tasks import preflight, verify
from tests.harness import FakeHost, FakeState, make_node

ROOT = Path(__file__).resolve().parents[2]


class Inventory:
    """Just enough inventory for run_preflight: no hosts, so only check_inventory speaks."""

    def __iter__(self):
        return iter(())

    def get_group(self, name, default=None):
        return default

    def get_active_hosts(self):
        return []


def test_preflight_runs_once_per_run_and_again_for_the_next_run(monkeypatch):
    checked = []
    check_inventory = preflight.check_inventory
    monkeypatch.setattr(preflight, "check_inventory",
                        lambda inventory: checked.append(inventory) or check_inventory(inventory))
    first, second = FakeState(), FakeState()
    for state in (first, second):
        state.inventory = Inventory()
        with pytest.raises(preflight.InventoryError, match="no host in group ray_head") as refused:
            preflight.run_preflight(state)
        # The other hosts of the same run are refused too, without checking again:
        # none of them goes on to take the deploy lock.
        with pytest.raises(preflight.InventoryError) as again:
            preflight.run_preflight(state)
        assert again.value is refused.value
    assert len(checked) == 2


# Calls that change a set, list or dict in place.
MUTATORS = {"append", "add", "update", "extend", "insert", "pop", "remove", "discard", "clear",
            "setdefault", "popitem", "sort", "reverse"}
# The one registry of runs: weakly keyed by pyinfra's State, an entry goes with its run.
REGISTRY = ROOT / "seedcore" / "run_context.py"
DEPLOY_MODULES = sorted(path for package in ("seedcore", "deploy") for path in (ROOT / package).rglob("*.py")
                        if path != REGISTRY)


def _module_names(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else [])
        for target in targets:
            names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


def _local_names(function) -> set[str]:
    names = {arg.arg for arg in ast.walk(function.args) if isinstance(arg, ast.arg)}
    stored = {n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return names | stored


def _changed_target(node):
    """The object a statement or call changes in place (`X.add(...)`, `X[k] = v`, `del X[k]`), or None."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MUTATORS:
        return node.func.value
    targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else (
        [node.target] if isinstance(node, ast.AugAssign) else [])
    return next((t.value for t in targets if isinstance(t, (ast.Subscript, ast.Attribute))), None)


def module_globals_changed_at_run_time(source: str) -> list[str]:
    """Module-level names a function rebinds (`global`) or changes in place:
    state that would outlive the run and leak into the next one in the same process."""
    tree = ast.parse(source)
    module_names = _module_names(tree)
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        local = _local_names(function)
        for node in ast.walk(function):
            if isinstance(node, ast.Global):
                found += [f"line {node.lineno}: global {name}" for name in node.names]
                continue
            target = _changed_target(node)
            while isinstance(target, (ast.Subscript, ast.Attribute)):
                target = target.value
            if isinstance(target, ast.Name) and target.id in module_names and target.id not in local:
                found.append(f"line {node.lineno}: {target.id} changed")
    return sorted(set(found))


@pytest.mark.parametrize("path", DEPLOY_MODULES, ids=[str(p.relative_to(ROOT)) for p in DEPLOY_MODULES])
def test_run_state_is_not_kept_in_module_globals(path):
    """Per-run state lives in the run's RunContext; module-level tables stay constant."""
    assert module_globals_changed_at_run_time(path.read_text()) == []


def test_the_module_globals_check_finds_run_state():
    # The shapes preflight and verify used before their state moved onto `state`.
    source = (
        "_DONE = set()\nRESULTS = {}\n_REPORTED = []\ncount = 0\n"
        "def run(state):\n    _DONE.add(id(state))\n    RESULTS[state] = 1\n"
        "    RESULTS.setdefault('x', []).append(1)\n    _REPORTED.append(1)\n"
        "def bump():\n    global count\n    count += 1\n"
        "def local_only(items):\n    RESULTS = {}\n    RESULTS['a'] = 1\n    items.append(1)\n"
    )
    assert module_globals_changed_at_run_time(source) == [
        "line 11: global count", "line 6: _DONE changed", "line 7: RESULTS changed",
        "line 8: RESULTS changed", "line 9: _REPORTED changed",
    ]


def _verify_run(tmp_path, monkeypatch, run: int, ok: bool):
    state = FakeState()
    host = FakeHost(name="head-1", facts={"LogSignatureCounts": {}})
    node = make_node(name="head-1")
    monkeypatch.setattr(verify, "node_checks", lambda *args: [
        checks.Result("head-1", "dashboard version", ok, f"run {run}"),
    ])
    monkeypatch.setattr(checks, "log_results", lambda *args: [])
    verify._check_host(state, host, node, expected_nodes=1, all_hosts=["head-1"])
    path = tmp_path / f"verify-{run}.json"
    return state, host, path


def test_a_second_verify_run_in_one_process_reports_its_own_results(tmp_path, monkeypatch, capsys):
    state, host, path = _verify_run(tmp_path, monkeypatch, 1, ok=False)
    verify._report(state, host, str(path), ["head-1"])
    assert json.loads(path.read_text())["ok"] is False
    assert red_hosts(state) == {"head-1": "verify: dashboard version"}

    state, host, path = _verify_run(tmp_path, monkeypatch, 2, ok=True)
    verify._report(state, host, str(path), ["head-1"])
    report = json.loads(path.read_text())
    assert report["ok"] is True
    assert red_hosts(state) == {}
    assert report["hosts"]["head-1"]["checks"][0]["detail"] == "run 2"
    assert capsys.readouterr().out.count("--> Verify report") == 2


def test_each_run_has_its_own_context_and_it_goes_with_its_state():
    import gc
    import weakref

    from seedcore.run_context import run_of

    first, second = FakeState(), FakeState()
    assert run_of(first) is run_of(first)
    assert run_of(first) is not run_of(second)
    run_of(first).verify_results["head-1"] = []
    assert run_of(second).verify_results == {}
    gone = weakref.ref(run_of(first))
    del first
    gc.collect()
    assert gone() is None


HUNG_ON_STATE = re.compile(r"""(state\.|attr\(\s*[\w.]*state\s*,\s*["'])seedcore_""")


def test_nothing_of_a_run_is_hung_on_pyinfras_state():
    hung = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
            for package in ("seedcore", "deploy") for path in sorted((ROOT / package).rglob("*.py"))
            for number, line in enumerate(path.read_text().splitlines(), 1)
            if HUNG_ON_STATE.search(line)]
    assert hung == []
    assert HUNG_ON_STATE.search('getattr(host.state, "seedcore_lock", None)')
    assert HUNG_ON_STATE.search("state.seedcore_tally = CommandTally()")


SYNC_PRIMITIVES = {"Semaphore", "BoundedSemaphore", "Lock", "RLock", "Event", "Condition", "Queue"}


def module_level_gates(source: str) -> list[str]:
    """Locks, semaphores and queues made when a module is imported: shared by every run."""
    found = []
    for node in ast.parse(source).body:
        value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
        if isinstance(value, ast.Call):
            function = value.func
            called = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
            if called in SYNC_PRIMITIVES:
                found.append(f"line {node.lineno}: {called}()")
    return found


@pytest.mark.parametrize("path", DEPLOY_MODULES, ids=[str(p.relative_to(ROOT)) for p in DEPLOY_MODULES])
def test_no_gate_is_shared_by_every_run(path):
    assert module_level_gates(path.read_text()) == []


def test_the_gate_check_finds_a_module_level_semaphore():
    source = "from gevent.lock import Semaphore\nimport threading\n_LOCK = Semaphore()\n" \
             "GATE: object = threading.Lock()\ndef f():\n    local = Semaphore()\n"
    assert module_level_gates(source) == ["line 3: Semaphore()", "line 4: Lock()"]


def test_deploy_holds_only_the_entry_points():
    entry_points = sorted(path.name for path in (ROOT / "deploy").glob("*.py"))
    assert entry_points == ["cluster.py", "rebuild.py", "rollout.py", "verify.py"]
    assert not (ROOT / "deploy" / "__init__.py").exists()
    for name in entry_points:
        tree = ast.parse((ROOT / "deploy" / name).read_text())
        steps = [node for node in tree.body[1:] if not isinstance(node, (ast.Import, ast.ImportFrom))]
        assert not [node for node in steps if isinstance(node, (ast.FunctionDef, ast.ClassDef))], name
        assert len(steps) <= 6, f"deploy/{name} is a few lines naming its run, not library code"

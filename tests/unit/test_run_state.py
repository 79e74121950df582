"""One process, two runs: each run keeps its own state on pyinfra's `state`,
so the second run checks, verifies and reports again."""

import json

import pytest

from deploy import checks, defaults
from deploy.tasks import preflight, verify
from tests.harness import FakeHost, FakeState, make_node


class Inventory:
    """Just enough inventory for run_preflight: no hosts, so only check_inventory speaks."""

    def __iter__(self):
        return iter(())

    def get_group(self, name, default=None):
        return default

    def get_active_hosts(self):
        return []


def test_preflight_runs_once_per_run_and_again_for_the_next_run():
    first, second = FakeState(), FakeState()
    for state in (first, second):
        state.inventory = Inventory()
        with pytest.raises(preflight.InventoryError, match="no host in group ray_head"):
            preflight.run_preflight(state)
        # The other hosts of the same run pass by: it already refused.
        preflight.run_preflight(state)


@pytest.mark.parametrize("module", [preflight, verify])
def test_run_state_is_not_kept_in_module_globals(module):
    imported_tables = [id(value) for value in vars(defaults).values()]
    assert [name for name, value in vars(module).items()
            if isinstance(value, (set, list, dict)) and not name.startswith("__")
            and id(value) not in imported_tables] == []


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
    with pytest.raises(verify.VerifyFailed, match="dashboard version: run 1"):
        verify._report(state, host, str(path), ["head-1"])
    assert json.loads(path.read_text())["ok"] is False

    state, host, path = _verify_run(tmp_path, monkeypatch, 2, ok=True)
    verify._report(state, host, str(path), ["head-1"])
    report = json.loads(path.read_text())
    assert report["ok"] is True
    assert report["hosts"]["head-1"]["checks"][0]["detail"] == "run 2"
    assert capsys.readouterr().out.count("--> Verify report") == 2

"""SEEDCORE_TIMINGS: each operation counts for its deploy's phase, and the file says so."""

import json

from seedcore import timings
from seedcore.run_context import run_of


class OpMeta:
    def __init__(self, names):
        self.names = names


class FakeState:
    def __init__(self, names: dict[str, str]):
        self.names = names
        self.handlers = []

    def get_op_meta(self, op_hash):
        return OpMeta({self.names[op_hash]})

    def add_callback_handler(self, handler):
        self.handlers.append(handler)


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_operations_map_to_the_phase_of_their_deploy():
    assert timings.phase_of("Install and configure Docker | Write /etc/docker/daemon.json") == "docker"
    assert timings.phase_of("Render the compose files and env | Write the Serve config") == "files"
    assert timings.phase_of("Pull the Ray image | Pull registry/seedcore/ray:2.20.0") == "pull"
    assert timings.phase_of("Archive what is about to be removed | Archive the logs") == "stop_start"
    assert timings.phase_of("Stop, clean and start the Ray node | Start the Ray head") == "stop_start"
    assert timings.phase_of("Deploy the Serve applications | Deploy the Serve config") == "serve"
    assert timings.phase_of("Verify the cluster | Report the checks and the verdict") == "verify"
    assert timings.phase_of("Some other deploy | An operation") == "other"
    assert timings.phase_of("An operation outside any deploy") == "other"


def test_the_file_holds_connect_phases_and_operations(tmp_path):
    path = tmp_path / "timings.json"
    state = FakeState({"a": "Install and configure Docker | Enable and start Docker",
                       "b": "Pull the Ray image | Pull img",
                       "c": "Verify the cluster | Report the checks and the verdict"})
    clock = Clock(100.0)
    run = timings.RunTimings(str(path), started=99.0, now=clock)  # the deploy file loads 1 s in
    run.preflight_s = 0.25
    for op_hash, start, end in (("a", 100.5, 100.75), ("b", 100.75, 101.0), ("c", 101.0, 102.5)):
        clock.now = start
        run.operation_start(state, op_hash)
        clock.now = end
        run.operation_end(state, op_hash)
    clock.now = 103.0
    run_of(state).fact_misses = {"worker-1": ["DebPackages"]}
    run.host_disconnect(state, host=None)

    assert json.loads(path.read_text()) == {
        "connect_s": 1.0,
        "total_s": 4.0,
        "phases": {"preflight": 0.25, "plan": 0.25, "docker": 0.25, "files": 0.0, "pull": 0.25,
                   "stop_start": 0.0, "serve": 0.0, "verify": 1.5, "other": 0.0},
        "operations": [["Install and configure Docker | Enable and start Docker", 0.25],
                       ["Pull the Ray image | Pull img", 0.25],
                       ["Verify the cluster | Report the checks and the verdict", 1.5]],
        "fact_misses": {"worker-1": ["DebPackages"]},
    }


def test_timings_are_registered_only_when_the_variable_is_set(monkeypatch, tmp_path):
    monkeypatch.delenv(timings.ENV, raising=False)
    state = FakeState({})
    assert timings.time_run(state) is None
    assert state.handlers == []
    monkeypatch.setenv(timings.ENV, str(tmp_path / "t.json"))
    registered = timings.time_run(state)
    assert state.handlers == [registered]
    assert timings.time_run(state) is registered
    assert registered.path == str(tmp_path / "t.json")

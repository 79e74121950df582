"""A host's facts are read once, in one command, and kept only while they hold."""

from pyinfra.facts.files import File, Sha256File

from seedcore import hostfacts
from seedcore.facts.bundle import FactBundle
from seedcore.facts.docker import ComposeCli, ImageId
from seedcore.facts.host import EpochSeconds, ListeningPorts
from tests.harness import FakeHost

IMAGE = "registry.example.com/seedcore/ray:2.20.0"


class Meta:
    def __init__(self, executed: bool, complete: bool = True):
        self.executed = executed
        self.complete = complete

    def is_complete(self) -> bool:
        return self.complete


class OpData:
    def __init__(self, executed: bool, complete: bool = True):
        self.operation_meta = Meta(executed, complete)


def finished(state, on, op_hash: str, executed: bool, complete: bool = True) -> OpData:
    """An operation finishing on host `on`, as pyinfra reports it to the run's callbacks."""
    data = OpData(executed, complete)
    state.ops.setdefault(on, {})[op_hash] = data
    state.trigger_callbacks("operation_host_success", on, op_hash, 0)
    return data


def bundled_host(values_by_read: dict) -> FakeHost:
    """A host whose FactBundle answers each read from `values_by_read` (by fact name)."""
    host = FakeHost(name="worker-1")
    host.state.ops = {host: {}}
    host.bundles = []

    def get_fact(cls, **kwargs):
        host.fact_calls.append((cls.__name__, kwargs))
        if cls is FactBundle:
            host.bundles.append([name for name, _ in kwargs["reads"]])
            return [values_by_read[name] for name, _ in kwargs["reads"]]
        return values_by_read[cls.__name__]

    host.get_fact = get_fact
    return host


def running_under_yes(host) -> None:
    """The run executes, as under -y (no plan shown: the snapshot read while planning holds)."""
    host.state.is_executing = True
    host.state.check_for_changes = False


READS = [[ListeningPorts, {}], [EpochSeconds, {}], [ComposeCli, {}], [ImageId, {"image": IMAGE}]]


def test_a_snapshot_answers_every_fact_it_holds_without_another_command():
    host = bundled_host({"ListeningPorts": {}, "EpochSeconds": 1718007302, "ComposeCli": "docker compose",
                         "ImageId": "sha256:1"})
    hostfacts.read_bundle(host, READS)
    assert hostfacts.read_fact(host, ImageId, image=IMAGE) == "sha256:1"
    assert hostfacts.read_fact(host, ComposeCli) == "docker compose"
    assert hostfacts.read_fact(host, EpochSeconds) == 1718007302
    assert [name for name, _ in host.fact_calls] == ["FactBundle"]


def test_an_operation_that_ran_commands_makes_the_host_read_its_operation_facts_again():
    host = bundled_host({"ListeningPorts": {}, "EpochSeconds": 1, "ComposeCli": "docker compose",
                         "ImageId": None})
    running_under_yes(host)
    hostfacts.read_bundle(host, READS)
    finished(host.state, host, "noop", executed=False)
    assert hostfacts.read_fact(host, ImageId, image=IMAGE) is None
    assert len(host.bundles) == 1
    finished(host.state, host, "pull", executed=True)
    assert hostfacts.read_fact(host, ImageId, image=IMAGE) is None
    # Re-read in one command, only what operations decide with.
    assert host.bundles == [["ListeningPorts", "EpochSeconds", "ComposeCli", "ImageId"],
                            ["ComposeCli", "ImageId"]]


def test_a_snapshot_read_while_planning_is_read_again_once_a_shown_plan_executes():
    """Without -y pyinfra shows the plan and waits for a yes: the hosts may have moved on."""
    host = bundled_host({"ListeningPorts": {}, "EpochSeconds": 1, "ComposeCli": None, "ImageId": None})
    hostfacts.read_bundle(host, READS)
    host.state.check_for_changes = True
    host.state.is_executing = True
    hostfacts.read_fact(host, ComposeCli)
    hostfacts.read_fact(host, ImageId, image=IMAGE)
    assert host.bundles == [["ListeningPorts", "EpochSeconds", "ComposeCli", "ImageId"],
                            ["ComposeCli", "ImageId"]]


def test_while_planning_no_operation_has_run_a_command():
    host = bundled_host({})
    assert hostfacts.commands_run(host.state) == 0
    finished(host.state, host, "pull", executed=True)
    assert hostfacts.commands_run(host.state) == 0
    host.state.is_executing = True
    assert hostfacts.commands_run(host.state) == 1
    assert hostfacts.commands_run(host.state, host) == 1
    assert hostfacts.commands_run(host.state, "head-1") == 0


def test_under_yes_the_snapshot_read_while_planning_holds_into_the_run():
    host = bundled_host({"ListeningPorts": {}, "EpochSeconds": 1, "ComposeCli": None, "ImageId": None})
    hostfacts.read_bundle(host, READS)
    host.state.check_for_changes = False
    host.state.is_executing = True
    hostfacts.read_fact(host, ComposeCli)
    hostfacts.read_fact(host, ImageId, image=IMAGE)
    assert host.bundles == [["ListeningPorts", "EpochSeconds", "ComposeCli", "ImageId"]]
    finished(host.state, host, "pull", executed=True)
    hostfacts.read_fact(host, ImageId, image=IMAGE)
    assert host.bundles[1:] == [["ComposeCli", "ImageId"]]


def test_an_operation_fact_the_snapshot_lacks_is_counted_and_bundled_from_then_on():
    values = {"ListeningPorts": {}, "EpochSeconds": 1, "ComposeCli": None, "ImageId": None}
    host = bundled_host(values)
    reads = list(READS)
    running_under_yes(host)
    hostfacts.read_bundle(host, reads)
    assert hostfacts.read_fact(host, ImageId, image="other:1") is None
    assert hostfacts.read_fact(host, ImageId, image="other:1") is None
    assert hostfacts.fact_misses(host.state) == {"worker-1": ["ImageId(image=other:1)"]}
    assert [name for name, _ in host.fact_calls] == ["FactBundle", "ImageId"]
    assert reads == READS, "the caller's list is left as it was"
    finished(host.state, host, "pull", executed=True)
    hostfacts.read_fact(host, ComposeCli)
    assert host.bundles[-1] == ["ComposeCli", "ImageId", "ImageId"]


def test_a_fact_outside_the_snapshot_or_its_arguments_is_read_on_its_own():
    host = bundled_host({"ListeningPorts": {}, "EpochSeconds": 1, "ComposeCli": None, "ImageId": "other"})
    hostfacts.read_bundle(host, READS)
    assert hostfacts.read_fact(host, ImageId, image="registry.example.com/other:1") == "other"
    assert host.fact_calls[-1] == ("ImageId", {"image": "registry.example.com/other:1"})


def test_without_a_snapshot_a_fact_is_read_as_pyinfra_reads_it():
    host = FakeHost(facts={"ComposeCli": "docker-compose"})
    assert hostfacts.read_fact(host, ComposeCli) == "docker-compose"
    assert host.fact_calls == [("ComposeCli", {})]


def test_a_command_run_on_another_host_counts_too():
    """A head that restarts changes what its workers' containers do."""
    host = bundled_host({"ListeningPorts": {}, "EpochSeconds": 1, "ComposeCli": None, "ImageId": None})
    running_under_yes(host)
    hostfacts.read_bundle(host, READS)
    finished(host.state, "head-1", "restart", executed=True)
    hostfacts.read_fact(host, ComposeCli)
    assert host.bundles == [["ListeningPorts", "EpochSeconds", "ComposeCli", "ImageId"],
                            ["ComposeCli", "ImageId"]]


def test_a_step_on_the_host_reads_its_files_again_without_its_containers():
    """A file step decides with the host's files: after a command on the host,
    only the facts that command could change are read again, without a Docker call."""
    host = bundled_host({"ComposeCli": "docker compose", "ImageId": None, "Sha256File": "ab",
                         "File": {"mode": 600}})
    running_under_yes(host)
    reads = [[ComposeCli, {}], [ImageId, {"image": IMAGE}], [Sha256File, {"path": "/opt/a"}],
             [File, {"path": "/opt/a"}]]
    hostfacts.read_bundle(host, reads)
    finished(host.state, host, "write", executed=True)
    assert hostfacts.read_fact(host, Sha256File, path="/opt/a") == "ab"
    assert hostfacts.read_fact(host, File, path="/opt/a") == {"mode": 600}
    assert host.bundles[1:] == [["Sha256File", "File"]]
    assert hostfacts.read_fact(host, ComposeCli) == "docker compose"
    assert host.bundles[2:] == [["ComposeCli", "ImageId"]]


def test_a_command_on_another_host_leaves_this_hosts_files_standing():
    host = bundled_host({"ImageId": None, "Sha256File": "ab"})
    running_under_yes(host)
    hostfacts.read_bundle(host, [[ImageId, {"image": IMAGE}], [Sha256File, {"path": "/opt/a"}]])
    finished(host.state, "head-1", "restart", executed=True)
    assert hostfacts.read_fact(host, Sha256File, path="/opt/a") == "ab"
    assert len(host.bundles) == 1
    hostfacts.read_fact(host, ImageId, image=IMAGE)
    assert host.bundles[1:] == [["ImageId"]]


def test_a_step_that_ends_while_the_host_is_read_again_makes_that_read_stale():
    host = bundled_host({"ImageId": None})
    running_under_yes(host)
    hostfacts.read_bundle(host, [[ImageId, {"image": IMAGE}]])
    finished(host.state, "head-1", "restart", executed=True)
    plain = host.get_fact

    def slow_read(cls, **kwargs):
        # While this read is under way, another host's step ends.
        finished(host.state, "head-1", "start", executed=True)
        host.get_fact = plain
        return plain(cls, **kwargs)

    host.get_fact = slow_read
    hostfacts.read_fact(host, ImageId, image=IMAGE)
    hostfacts.read_fact(host, ImageId, image=IMAGE)
    assert host.bundles == [["ImageId"], ["ImageId"], ["ImageId"]]


def test_facts_added_to_a_snapshot_are_answered_from_it():
    """The Release files read in preflight's second round join the host's snapshot."""
    from seedcore.facts.apt import AptRelease

    url = "http://mirror.lab/debian/dists/trixie/Release"
    host = bundled_host({"ListeningPorts": {}, "EpochSeconds": 1, "ComposeCli": "docker compose",
                         "ImageId": None, "AptRelease": {"fetched": True, "codename": "trixie"}})
    hostfacts.read_bundle(host, READS)
    hostfacts.add_to_bundle(host, [[AptRelease, {"url": url}]])
    assert hostfacts.read_fact(host, AptRelease, url=url) == {"fetched": True, "codename": "trixie"}
    assert hostfacts.read_fact(host, ComposeCli) == "docker compose"
    assert host.bundles == [["ListeningPorts", "EpochSeconds", "ComposeCli", "ImageId"], ["AptRelease"]]
    assert [name for name, _ in host.fact_calls] == ["FactBundle", "FactBundle"]


def test_an_operation_whose_result_is_not_set_yet_makes_the_snapshot_stale_once_it_is():
    """pyinfra reports an operation finishing just before it sets its result: a
    read in between counts it as finishing, and once its result is set the host
    is read again, whether it ran commands or not."""
    host = bundled_host({"ListeningPorts": {}, "EpochSeconds": 1, "ComposeCli": None, "ImageId": None})
    running_under_yes(host)
    hostfacts.read_bundle(host, READS)
    data = finished(host.state, "head-1", "restart", executed=False, complete=False)
    assert hostfacts.commands_run(host.state) == 1
    hostfacts.read_fact(host, ComposeCli)
    assert len(host.bundles) == 2
    data.operation_meta.complete = True
    assert hostfacts.commands_run(host.state) == 0
    hostfacts.read_fact(host, ComposeCli)
    assert len(host.bundles) == 3
    hostfacts.read_fact(host, ComposeCli)
    assert len(host.bundles) == 3


def test_counting_looks_at_each_finished_operation_once():
    """Each read costs the operations finished since the last one, not every
    host's every operation."""
    host = bundled_host({})
    host.state.is_executing = True
    assert hostfacts.commands_run(host.state) == 0
    for index in range(50):
        finished(host.state, f"worker-{index}", "pull", executed=True)
    assert hostfacts.commands_run(host.state) == 50
    looked = []
    for data in (ops["pull"] for ops in host.state.ops.values() if "pull" in ops):
        meta = data.operation_meta
        meta.is_complete = lambda meta=meta: looked.append(meta) or True
    assert hostfacts.commands_run(host.state) == 50
    assert hostfacts.commands_run(host.state, "worker-3") == 1
    assert looked == []

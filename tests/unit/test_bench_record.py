"""The bench records a failed measurement and goes on; ratios refuse missing figures."""

import subprocess

import pytest

from bench.record import measured, ratio


def test_a_subprocess_timeout_is_recorded_with_its_traceback_and_the_next_measurement_runs():
    results, failures = {}, {}

    def times_out():
        raise subprocess.TimeoutExpired(["pyinfra", "-y", "inventories/lab.py"], 1800)

    assert measured(results, failures, "fresh_converge_3_hosts_s", times_out) is None
    assert measured(results, failures, "noop_rerun_3_hosts_s", lambda: 1.5) == 1.5
    assert results == {"fresh_converge_3_hosts_s": None, "noop_rerun_3_hosts_s": 1.5}
    assert list(failures) == ["fresh_converge_3_hosts_s"]
    last = failures["fresh_converge_3_hosts_s"].splitlines()[-1]
    assert last == ("subprocess.TimeoutExpired: Command '['pyinfra', '-y', 'inventories/lab.py']' "
                    "timed out after 1800 seconds")
    assert '    raise subprocess.TimeoutExpired(["pyinfra", "-y", "inventories/lab.py"], 1800)' in \
        failures["fresh_converge_3_hosts_s"].splitlines()


@pytest.mark.parametrize(
    "error", [KeyError("total_s"), ValueError("bad"), OSError("gone"), RuntimeError("red")])
def test_every_exception_is_recorded_not_only_runtime_errors(error):
    results, failures = {}, {}

    def fails():
        raise error

    measured(results, failures, "floor_3_hosts", fails)
    assert results == {"floor_3_hosts": None}
    assert failures["floor_3_hosts"].splitlines()[-1].startswith(type(error).__name__ + ":")


def test_only_the_last_lines_of_a_long_traceback_are_kept():
    results, failures = {}, {}

    def deep(n):
        if n == 0:
            raise RuntimeError("bottom")
        deep(n - 1)

    measured(results, failures, "deep", lambda: deep(30))
    assert len(failures["deep"].splitlines()) == 12
    assert failures["deep"].splitlines()[-1] == "RuntimeError: bottom"


def test_ratio():
    assert ratio(3.0, 2.0) == 1.5
    assert ratio(None, 2.0) is None
    assert ratio(3.0, None) is None
    assert ratio(3.0, 0) is None


def test_a_failure_inside_a_nested_figure_is_kept_under_its_label():
    sizes, failures = {}, {}

    def fails():
        raise RuntimeError("lab: --hosts must be between 1 and 244")

    measured(sizes, failures, "50", fails, label="scale_facts_dry_s.50")
    assert sizes == {"50": None}
    last = failures["scale_facts_dry_s.50"].splitlines()[-1]
    assert last == "RuntimeError: lab: --hosts must be between 1 and 244"


def test_the_distros_list_is_cut_to_the_host_count():
    from bench.scenarios import distros_for

    assert distros_for("bookworm,trixie", 1) == "bookworm"
    assert distros_for("bookworm,trixie", 3) == "bookworm,trixie"


def test_a_figure_measured_again_successfully_clears_its_earlier_failure():
    results, failures = {}, {}

    def fails():
        raise RuntimeError("no lab host with role worker")

    measured(results, failures, "bare_host_memory_mib", fails)
    measured(results, failures, "bare_host_memory_mib", lambda: 10.1)
    assert results == {"bare_host_memory_mib": 10.1}
    assert failures == {}


def test_the_published_pair_is_the_one_with_the_median_ratio():
    from bench.scenarios import median_pair

    pairs = [{"ratio": 1.5, "id": "a"}, {"ratio": None, "id": "failed"}, {"ratio": 1.1, "id": "b"},
             {"ratio": 1.3, "id": "c"}]
    assert median_pair(pairs)["id"] == "c"
    assert median_pair(pairs[:1] + pairs[2:3])["id"] == "b"  # two: the lower middle
    assert median_pair([{"ratio": None}]) == {}


def test_pairs_against_the_floor_each_start_bare_and_a_failed_one_is_recorded():
    from bench.scenarios import Bench, against_floor

    bench = Bench(pairs=3)
    made_bare, seconds = [], iter([12.0, 11.0, 99.0])
    floors = iter([10.0, 10.0, 10.0])

    def deployed(timings):
        value = next(seconds)
        if value == 99.0:
            raise RuntimeError("the deploy failed")
        timings["run"] = {"total_s": value}
        return value

    chosen, listed = against_floor(
        bench, lambda: made_bare.append(1) or {"hosts": []}, lambda state: {"total_s": next(floors)},
        deployed, "floor_x", "run")
    assert len(made_bare) == 6  # bare before each floor and before each deploy
    assert listed == [{"floor_s": 10.0, "seconds": 12.0, "ratio": 1.2},
                      {"floor_s": 10.0, "seconds": 11.0, "ratio": 1.1},
                      {"floor_s": 10.0, "seconds": None, "ratio": None}]
    assert chosen["seconds"] == 11.0 and chosen["timings"] == {"total_s": 11.0}
    assert "run_s (pair 3)" in bench.failures

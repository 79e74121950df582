"""A host's checks polled side by side (checks.poll_all): bounded in number and
in time, their results in the order the checks were given."""

import threading
import time

import pytest

from seedcore import checks


def _after(seconds: float, answer=(True, "ready")):
    def probe():
        time.sleep(seconds)
        return answer
    return probe


def test_results_keep_the_order_of_the_checks_not_the_order_they_answer_in():
    polls = [(f"check {index}", _after(delay, (True, f"answered after {delay}s")), None)
             for index, delay in enumerate([0.3, 0.0, 0.2, 0.1])]
    results = checks.poll_all("head-1", polls, time.monotonic() + 10)
    assert [(r.check, r.detail) for r in results] == [
        ("check 0", "answered after 0.3s"), ("check 1", "answered after 0.0s"),
        ("check 2", "answered after 0.2s"), ("check 3", "answered after 0.1s"),
    ]
    assert all(r.ok and r.host == "head-1" for r in results)


def test_checks_run_side_by_side():
    polls = [(f"check {index}", _after(0.5), None) for index in range(6)]
    started = time.monotonic()
    results = checks.poll_all("head-1", polls, time.monotonic() + 10, in_flight=6)
    assert all(r.ok for r in results)
    assert time.monotonic() - started < 2  # one after another: 3 s


def test_no_more_than_in_flight_checks_are_out_at_once():
    lock, out, most = threading.Lock(), [0], [0]

    def probe():
        with lock:
            out[0] += 1
            most[0] = max(most[0], out[0])
        time.sleep(0.05)
        with lock:
            out[0] -= 1
        return True, "ok"

    results = checks.poll_all("head-1", [(f"check {i}", probe, None) for i in range(8)],
                              time.monotonic() + 10, in_flight=3)
    assert all(r.ok for r in results)
    assert most[0] == 3


def test_a_probe_that_hangs_ends_at_the_deadline_and_the_others_keep_their_answers(monkeypatch):
    monkeypatch.setattr(checks, "TIMEOUT_S", 0.1)
    monkeypatch.setattr(checks, "RETRY_PAUSE_S", 0.05)
    never = threading.Event()
    tries = []

    def hangs():
        tries.append(1)
        if len(tries) == 1:
            return False, "HTTP 503: starting"
        never.wait(10)  # a try that does not answer in time
        return True, "too late"

    polls = [("metrics", _after(0.0, (True, "87 ray_ series")), None), ("serve proxy", hangs, None),
             ("gcs health", _after(0.0, (True, "success")), None)]
    started = time.monotonic()
    results = checks.poll_all("head-1", polls, time.monotonic() + 0.5)
    elapsed = time.monotonic() - started
    never.set()
    assert 0.4 < elapsed < 1.5
    assert [(r.check, r.ok) for r in results] == [("metrics", True), ("serve proxy", False),
                                                  ("gcs health", True)]
    assert results[1].detail.startswith("no answer by the deadline: a try was still out after")
    assert results[1].detail.endswith("(last seen: HTTP 503: starting)")


def test_a_check_that_never_got_a_slot_is_red_saying_so(monkeypatch):
    monkeypatch.setattr(checks, "TIMEOUT_S", 0.1)
    never = threading.Event()

    def hangs():
        never.wait(10)
        return True, "too late"

    results = checks.poll_all("worker-1", [("metrics", hangs, None), ("node alive", _after(0.0), None)],
                              time.monotonic() + 0.3, in_flight=1)
    never.set()
    assert [r.ok for r in results] == [False, False]
    assert results[1].detail.startswith("not tried by the deadline")
    assert "1 other checks of worker-1 held every slot" in results[1].detail


def test_a_check_that_cannot_turn_green_is_red_at_once_beside_the_others(monkeypatch):
    monkeypatch.setattr(checks, "RETRY_PAUSE_S", 0.01)
    gone = "container seedcore-ray-worker is exited, not running"
    polls = [("metrics", _after(0.0, (False, "refused")), lambda: gone),
             ("node alive", _after(0.0), lambda: gone)]
    started = time.monotonic()
    results = checks.poll_all("worker-1", polls, time.monotonic() + 60)
    assert time.monotonic() - started < 1
    assert results[0].detail.startswith(f"{gone} (red at once")
    assert results[1].ok


def test_a_probe_that_breaks_is_raised_as_one_after_another_would():
    def broken():
        raise RuntimeError("a bug in a probe")

    with pytest.raises(RuntimeError, match="a bug in a probe"):
        checks.poll_all("head-1", [("metrics", _after(0.0), None), ("serve proxy", broken, None)],
                        time.monotonic() + 10)


def test_checks_turning_red_together_ask_their_host_once():
    asked = []

    def doomed():
        asked.append(1)
        time.sleep(0.1)  # the host is read over SSH
        return None

    shared = checks.shared(doomed)
    threads = [threading.Thread(target=shared) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert asked == [1]


def test_a_shared_answer_is_asked_again_once_it_is_old(monkeypatch):
    answers = iter([None, "container seedcore-ray-head is exited, not running"])
    shared = checks.shared(lambda: next(answers), max_age=0.05)
    assert shared() is None
    assert shared() is None
    time.sleep(0.06)
    assert shared() == "container seedcore-ray-head is exited, not running"

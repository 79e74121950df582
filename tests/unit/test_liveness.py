"""A host whose SSH connection stops answering is given up after a bound, named."""

import gevent

from seedcore import liveness


class Transport:
    """A paramiko Transport that answers session requests as told."""

    def __init__(self, answers):
        self.answers, self.active, self.asked = list(answers), True, 0

    def is_active(self):
        return self.active

    def close(self):
        self.active = False


def ask(transport, timeout_s):
    transport.asked += 1
    return transport.answers.pop(0) if transport.answers else True


def test_a_host_that_stops_answering_is_given_up_and_named():
    transport, said = Transport([True, True, False, False, False]), []
    assert liveness.watch_connection("worker-2", transport, 0.01, 3, ask=ask, say=said.append) is False
    assert transport.active is False and transport.asked == 5
    assert said == ["--> host worker-2: no answer over SSH for about 0 s (3 asks, 0.01 s apart): a frozen "
                    "host or a cut network; its connection is closed and the step it was in fails"]


def test_a_slow_answer_now_and_then_is_not_a_frozen_host():
    transport, said = Transport([False, True, False, False, True, False] + [True] * 5), []
    watcher = gevent.spawn(liveness.watch_connection, "head-1", transport, 0.01, 3, ask, said.append)
    gevent.sleep(0.3)
    transport.close()
    assert watcher.get(timeout=5) is True
    assert said == []


def test_a_session_opened_is_an_answer_and_a_refused_or_lost_one_is_not():
    class Opens:
        def open_session(self, timeout):
            class Channel:
                def close(self):
                    pass
            return Channel()

    class Hangs:
        def open_session(self, timeout):
            raise EOFError("no answer")

    assert liveness.answers(Opens(), 1) is True
    assert liveness.answers(Hangs(), 1) is False


def test_settings_out_of_range_are_taken_as_validation_will_take_them():
    assert liveness._bounded(0, 15, 1, 600) == 1
    assert liveness._bounded("15", 15, 1, 600) == 15
    assert liveness._bounded(10**9, 4, 1, 100) == 100


def test_a_typo_in_a_connection_key_is_refused_with_the_key_meant():
    from seedcore import validate

    problems = validate.check_keys("worker-1", {"connection_alive_intervall_s": 5})
    assert ("host worker-1: unknown key connection_alive_intervall_s: "
            "did you mean connection_alive_interval_s?") in problems

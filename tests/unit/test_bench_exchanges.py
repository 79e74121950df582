"""bench/exchanges.py: the SSH figures that do not depend on load (sessions,
channels, and rounds: exchanges that waited one for another)."""

from bench.exchanges import Watch, rounds


def test_exchanges_side_by_side_are_one_round():
    assert rounds([(0.0, 0.3), (0.01, 0.2), (0.02, 0.25)]) == 1


def test_exchanges_one_after_another_are_one_round_each():
    assert rounds([(0.0, 0.1), (0.1, 0.2), (0.25, 0.4)]) == 3


def test_checks_side_by_side_then_one_command_are_two_rounds():
    checks = [(0.0, 0.05), (0.0, 0.08), (0.01, 0.04), (0.01, 0.07)]
    assert rounds([*checks, (0.09, 0.2)]) == 2


def test_the_watch_counts_sessions_and_channels_per_host_and_their_rounds():
    clock = iter([0.0, 0.0, 0.1, 0.1, 0.2, 0.3, 0.35, 0.4, 1.0]).__next__
    watch = Watch(now=clock)
    first = watch.opened("10.0.0.11", "direct-tcpip")
    second = watch.opened("10.0.0.11", "direct-tcpip")
    watch.closed(first)
    watch.closed(second)
    command = watch.opened("10.0.0.11", "session")
    watch.closed(command)
    other = watch.opened("10.0.0.12", "session")
    watch.closed(other)
    assert watch.figures() == {
        "10.0.0.11": {"sessions": 1, "channels": 2, "rounds": 2},
        "10.0.0.12": {"sessions": 1, "channels": 0, "rounds": 1},
    }

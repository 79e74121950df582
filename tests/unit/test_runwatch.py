"""What an interrupted run says, and the reason a failed host is reported with."""

from seedcore import runwatch


def test_interrupted_names_changed_hosts_and_the_rerun():
    command = "pyinfra inv.py deploy/cluster.py"
    message = runwatch.interrupted_message(["head-1", "worker-1"], ["worker-2"], command)
    assert message == (
        "Interrupted (Ctrl-C): hosts changed before the interrupt: head-1, worker-1; interrupted in "
        "the middle of an operation: worker-2. Some nodes may be stopped or removed; run "
        "`pyinfra inv.py deploy/cluster.py` again: a re-run converges."
    )


def test_interrupted_before_any_change():
    assert runwatch.interrupted_message([], [], "pyinfra inv.py deploy/cluster.py").startswith(
        "Interrupted (Ctrl-C): no host was changed. ")


def test_connect_error_message_is_pyinfras_own():
    error = runwatch.ConnectError("Could not connect ([Errno 111] Connection refused)")
    assert runwatch._connect_message(error) == (
        "pyinfra could not connect: Could not connect ([Errno 111] Connection refused)")

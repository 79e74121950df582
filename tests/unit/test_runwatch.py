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


class _Host:
    name = "worker-1"


def test_a_host_changed_and_mid_operation_is_named_with_its_operation(monkeypatch):
    from types import SimpleNamespace

    watcher = runwatch.RunWatch()
    watcher.running = {"worker-1": "op-start"}
    state = SimpleNamespace(ops={_Host(): {"op-pull": None, "op-start": None}},
                            get_op_meta=lambda op_hash: SimpleNamespace(names={"Start the Ray worker"}))
    done = {"op-pull": (True, True), "op-start": (False, False)}
    monkeypatch.setattr(runwatch, "watch", lambda state: watcher)
    monkeypatch.setattr(runwatch, "operation_done", lambda state, host, op_hash: done[op_hash])
    changed, in_progress = runwatch.changed_hosts(state)
    assert changed == ["worker-1"]
    assert in_progress == ['worker-1 ("Start the Ray worker")']
    message = runwatch.interrupted_message(changed, in_progress, "pyinfra inv.py deploy/cluster.py")
    assert 'interrupted in the middle of an operation: worker-1 ("Start the Ray worker")' in message


def test_interrupted_before_any_change():
    assert runwatch.interrupted_message([], [], "pyinfra inv.py deploy/cluster.py").startswith(
        "Interrupted (Ctrl-C): no host was changed. ")


def test_connect_error_message_is_pyinfras_own():
    error = runwatch.ConnectError("Could not connect ([Errno 111] Connection refused)")
    assert runwatch._connect_message(error) == (
        "pyinfra could not connect: Could not connect ([Errno 111] Connection refused)")

"""Archiving before a restart: a failed archive is reported and the restart goes on."""

from types import SimpleNamespace

from seedcore.operations.ray import archive_then_go_on


class Host:
    """Answers the archive and the prune as told; keeps what the run logged for it."""

    def __init__(self, archive_ok: bool, stderr: str = ""):
        self.name, self.data, self.logged, self.sent = "worker-1", {"_sudo": True}, [], []
        archived = "archived 1 container(s) to /a/1\n" if archive_ok else ""
        self.answers = [(archive_ok, archived, stderr), (True, "", "")]

    def run_shell_command(self, command, **arguments):
        self.sent.append((str(command), arguments))
        ok, stdout, stderr = self.answers.pop(0)
        return ok, SimpleNamespace(stdout=stdout, stderr=stderr)

    def log(self, message, log_func):
        self.logged.append((log_func.__name__, message))


def test_a_failed_archive_is_reported_and_the_restart_goes_on():
    host = Host(False, "docker logs: write /a/1/x.log: no space left on device\n")
    assert archive_then_go_on(None, host, "ARCHIVE", "PRUNE", "/a/1") is True
    assert [sent for sent, _ in host.sent] == ["ARCHIVE", "PRUNE"]
    assert all(arguments == {"_sudo": True} for _, arguments in host.sent)
    assert host.logged == [("warning", "could not archive into /a/1: docker logs: write /a/1/x.log: no space "
                                        "left on device; the node is restarted all the same")]


def test_an_archive_says_where_it_went():
    host = Host(True)
    assert archive_then_go_on(None, host, "ARCHIVE", "PRUNE", "/a/1") is True
    assert host.logged == [("info", "archived 1 container(s) to /a/1")]

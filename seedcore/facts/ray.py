"""Facts read from inside the running Ray head."""

import shlex

from pyinfra.api import FactBase

from seedcore.commands import bounded

# The key, in Ray's internal key-value store, that records the Serve config
# last deployed. With head fault tolerance that store lives in Redis, so the
# record survives a head restart or a rebuilt head host, as Serve's state does.
SERVE_MARKER_KEY = "seedcore-serve-deployed"
# A read inside the head gives up after this: `ray.init` waits as long as a head
# waits for its GCS store, and a read that hangs would hold the whole run.
READ_TIMEOUT_S = 60

_READ_MARKER = (
    "import ray; from ray.experimental import internal_kv as kv; "
    "ray.init(address='auto', logging_level='ERROR'); "
    f"value = kv._internal_kv_get('{SERVE_MARKER_KEY}'); "
    "print('marker: ' + (value.decode() if value else ''))"
)


class StoredServeMarker(FactBase):
    """
    The Serve config digest recorded in Ray's internal key-value store (kept in
    the GCS store), or ``""`` when none is recorded or the head does not answer.

    + container: the head container
    """

    @staticmethod
    def default():
        return ""

    def command(self, container: str) -> str:
        read = f"docker exec {shlex.quote(container)} python -c {shlex.quote(_READ_MARKER)} 2>/dev/null"
        return bounded(read, READ_TIMEOUT_S, f"reading the Serve record in {container}") + " || true"

    def process(self, output):
        lines = [line for line in output if line.startswith("marker: ")]
        return lines[-1][len("marker: "):].strip() if lines else ""


class GcsStorageType(FactBase):
    """
    The storage the head's GCS reports at its start ("GCS storage type is ..."
    in its log), or ``""`` when the head or the line is not there.

    + container: the head container
    """

    @staticmethod
    def default():
        return ""

    def command(self, container: str) -> str:
        read = (f"docker exec {shlex.quote(container)} grep -h 'GCS storage type is' "
                "/tmp/ray/session_latest/logs/gcs_server.out 2>/dev/null")
        bounded_read = bounded(read, READ_TIMEOUT_S, f"reading the GCS storage type in {container}")
        return f"{bounded_read} | tail -n 1 || true"

    def process(self, output):
        line = "\n".join(output).strip()
        return line.split("GCS storage type is", 1)[1].strip() if "GCS storage type is" in line else ""

"""The deploy lock from the CLI: a second run is refused at once, naming the holder;
`--dry` takes no lock."""

import json
import re
import time

from tests.cli import responses

HOLDER = {"token": "other-run", "user": "ops", "machine": "bastion-2", "pid": 4242,
          "since": int(time.time()) - 60, "command": "pyinfra inventories/prod.py deploy/cluster.py"}


def held_by(record: dict) -> dict:
    return responses.bare_debian12(LOCK=["held", json.dumps(record)])


def test_a_second_run_is_refused_naming_the_holder(deployment):
    head = deployment.head(facts=held_by(HOLDER))
    deployment.worker()
    run = deployment.run("-y")
    assert run.code != 0, run.describe()
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(HOLDER["since"]))
    expected = (
        f"host {head}: another deploy holds the lock /opt/seedcore/deploy.lock: ops@bastion-2 "
        f"(pid 4242) since {since}, running `pyinfra inventories/prod.py "
        "deploy/cluster.py`; wait for it to finish; nothing was changed"
    )
    errors = [line for line in run.output.splitlines() if line.startswith("--> pyinfra error in ")]
    assert len(errors) == 1 and errors[0].endswith(f": {expected}"), run.describe()
    assert "Starting operation" not in run.output
    assert not run.started_operations, run.describe()


def test_rebuild_and_rollout_take_the_lock_too(deployment):
    deployment.head(facts=held_by(HOLDER))
    deployment.worker()
    for deploy in ("deploy/rebuild.py", "deploy/rollout.py"):
        run = deployment.run("-y", deploy=deploy)
        assert run.code != 0, run.describe()
        pattern = r"another deploy holds the lock /opt/seedcore/deploy\.lock: ops@bastion-2"
        assert re.search(pattern, run.output), run.describe()


def test_dry_takes_no_lock(deployment):
    deployment.head(facts=held_by(HOLDER))
    deployment.worker()
    run = deployment.dry()
    assert run.code == 0, run.describe()
    assert "deploy.lock" not in run.output

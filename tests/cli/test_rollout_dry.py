"""`pyinfra INVENTORY deploy/rollout.py --dry` (and deploy/verify.py) on a
converged cluster of `@fake` hosts, after the change a release makes.

Each host first gets the facts of its converged node (its container running,
healthy and labelled with the digest deploy.plan.plan_for gives it now, as in
test_converged.py); then the inventory is edited as an operator edits it for
a release (ray_env on the workers, on the head, a Ray upgrade), so the
running containers carry the previous digests. Docker's packages and the
files on disk are not scripted, so those rows are not looked at here.
"""

import itertools
import json

import pytest

from seedcore import commands
from seedcore.release import release_digest, write_record
from seedcore.topology import settings_for
from tests.cli import responses
from tests.cli.cli import HEAD_IP, WORKER_IPS, Deployment, Row, Run, assert_refused, problem_line
from tests.cli.inprocess import _state, plans

# Short names: pyinfra cuts a row's host list at 48 characters.
HEAD = "@fake/head"
W1, W2, W3 = WORKERS = ("@fake/w1", "@fake/w2", "@fake/w3")
ALL = {HEAD, *WORKERS}

ENV = {"OMP_NUM_THREADS": "2"}
UPGRADE_IMAGE = "registry.example.com/seedcore/ray:2.21.0"

# What deploy/rollout.py logs before a full restart.
FULL_RESTART = (
    "The head's config or version changed: Ray cannot take that node by node, so this "
    "rollout is one full, ordered restart (pull everywhere, stop workers, then the head; "
    "start the head, then the workers)."
)

BATCH = "Roll one batch of workers |"
# seedcore/tasks/rollout.py roll_batch, in its order.
BATCH_STEPS = [
    "Drain the worker before its restart",
    "Stop the worker",
    "Remove the worker's leftover containers",
    "Start the worker on the new version",
    "Wait until the worker is healthy",
    "Check the worker is ALIVE and green before the next batch",
]
# seedcore/tasks/lifecycle.py restart_node, in the order the cluster must go through them.
ORDERED_RESTART = [
    ("Stop the Ray worker", set(WORKERS)),
    ("Stop the Ray head", {HEAD}),
    ("Start the Ray head", {HEAD}),
    ("Start the Ray worker", set(WORKERS)),
]
VERIFY_STEPS = [
    "Verify the cluster | Check this node's endpoints and logs through its SSH connection",
    "Verify the cluster | Report the checks and the verdict",
]
# Rows of operations that touch a node's container or image.
CONTAINER_WORDS = ("Drain", "Stop", "Start", "Remove", "Pull", "Deploy the Serve config")


# -- the cluster ------------------------------------------------------------------


container_id = responses.container_id


def cluster(directory, filename: str = "inventory.py", workers=WORKERS, **data) -> Deployment:
    """A head and `workers`, every host given `data`, converged on that inventory."""
    deployment = Deployment(directory, filename)
    deployment.head(HEAD.removeprefix("@fake/"), HEAD_IP, **data)
    for name, ip in zip(workers, WORKER_IPS, strict=False):
        deployment.worker(name.removeprefix("@fake/"), ip, **data)
    deployment.write()
    converge(deployment)
    return deployment


def converge(deployment: Deployment) -> None:
    """Give every host the facts of its node converged on the inventory as written now."""
    for name, plan in plans(deployment.path).items():
        deployment.data[name]["fake_responses"] = responses.converged_node(
            name, plan.node, plan.config_hash, commands.ray_start_args(plan.node),
        )


def edit(deployment: Deployment, hosts, **data) -> None:
    """Change hosts' data after they converged, as a release does (written on the next run)."""
    for name in hosts:
        deployment.data[name].update(data)


def add_leftover(deployment: Deployment, host: str) -> None:
    """An exited container of the project beside the host's own."""
    facts = deployment.data[host]["fake_responses"]
    running = json.loads("\n".join(facts[responses.CONTAINERS]))
    leftover_id = container_id(host + "/old")
    leftover = responses.inspect_record(
        leftover_id, "seedcore-ray-worker-old", responses.IMAGE_SHA, "worker", "0123456789abcdef",
        ["ray", "start"], status="exited", health="",
    )
    facts[responses.CONTAINERS] = json.dumps([*running, leftover], indent=4).splitlines()


def without_image(deployment: Deployment, image: str) -> None:
    """Every host answers that `image` is not pulled yet (other images stay present)."""
    for name in deployment.data:
        facts = deployment.data[name]["fake_responses"]
        deployment.data[name]["fake_responses"] = {f"{image} 2>/dev/null": "", **facts}


def rollout(deployment: Deployment, *extra: str) -> Run:
    return deployment.run("--dry", *extra, deploy="deploy/rollout.py")


# -- reading the change table -------------------------------------------------------


def batch_rows(run: Run) -> list[list[Row]]:
    """The roll_batch rows, one list per batch, in table order."""
    rows = [row for row in run.rows if row.operation.startswith(BATCH)]
    size = len(BATCH_STEPS)
    assert rows and len(rows) % size == 0, run.describe()
    return [rows[i:i + size] for i in range(0, len(rows), size)]


def touched(row: Row) -> frozenset[str]:
    return row.change | row.conditional


def position(run: Run, fragment: str, hosts=None) -> int:
    """Index in the table of the first row matching `fragment` (that changes `hosts`, at
    once or, for a batch that waits on the ones before it, conditionally)."""
    for index, row in enumerate(run.rows):
        if fragment in row.operation and (hosts is None or row.change | row.conditional == set(hosts)):
            return index
    raise AssertionError(f"no row {fragment!r} changing {hosts}:\n{run.describe()}")


def assert_no_full_restart(run: Run) -> None:
    assert "full, ordered restart" not in run.output, run.describe()
    assert "The head's config or version changed" not in run.output, run.describe()
    assert not run.rows_matching("Stop, clean and start the Ray node |"), run.describe()


def assert_head_untouched(run: Run) -> None:
    for row in run.rows:
        if any(word in row.operation for word in CONTAINER_WORDS):
            assert HEAD not in touched(row), f"{row.operation}:\n{run.describe()}"


# -- 1. a change to the workers only: batch by batch ----------------------------------


@pytest.fixture(scope="module")
def workers_env(tmp_path_factory):
    """ray_env changed on every worker; one worker per batch (the default)."""
    deployment = cluster(tmp_path_factory.mktemp("workers-env"))
    edit(deployment, WORKERS, ray_env=ENV)
    return deployment, rollout(deployment)


def test_worker_change_is_not_a_full_restart(workers_env):
    _, run = workers_env
    assert run.code == 0, run.describe()
    assert_no_full_restart(run)


def test_worker_change_rolls_one_batch_per_worker_in_order(workers_env):
    _, run = workers_env
    batches = batch_rows(run)
    assert len(batches) == len(WORKERS), run.describe()
    for worker, rows in zip(WORKERS, batches, strict=True):
        assert [row.operation.removeprefix(BATCH).strip() for row in rows] == BATCH_STEPS
        for step in ("Drain the worker", "Stop the worker", "Start the worker on the new version",
                     "Check the worker is ALIVE and green"):
            row = next(row for row in rows if step in row.operation)
            assert row.change == {worker} and not row.conditional, f"{step} ({worker}):\n{run.describe()}"
        for row in rows:
            assert touched(row) <= {worker}, f"{row.operation} ({worker}):\n{run.describe()}"


def test_each_worker_gets_its_files_and_image_within_its_own_batch(workers_env):
    # Batch N's files are written after batch N-1 is green and before batch N drains.
    _, run = workers_env
    green = [position(run, "Check the worker is ALIVE and green", {worker}) for worker in WORKERS]
    drain = [position(run, "Drain the worker before its restart", {worker}) for worker in WORKERS]
    for index, worker in enumerate(WORKERS):
        env_file = position(run, "Write the Ray env file", {worker})
        after = green[index - 1] if index else -1
        assert after < env_file < drain[index], f"{worker}:\n{run.describe()}"
        # The batch's pull step (a no-op here: the image is there) comes before the files naming it.
        pulls = [i for i, row in enumerate(run.rows) if row.operation.startswith("Pull the Ray image |")]
        assert any(after < i < env_file for i in pulls), f"{worker}:\n{run.describe()}"
        # Written only if the batches before it stayed green.
        assert worker in run.rows[env_file].conditional, run.describe()


def test_worker_change_never_stops_the_head(workers_env):
    _, run = workers_env
    assert_head_untouched(run)
    assert not run.rows_matching("Stop the Ray head"), run.describe()
    assert run.changes_anywhere("Deploy the Serve config") == set()


def test_batches_follow_rollout_batch_size_and_skip_current_workers(tmp_path):
    # Batches of two: (w1, w2), then (w3). w2 keeps its config, so only w1 restarts in batch 1.
    deployment = cluster(tmp_path, rollout_batch_size=2)
    edit(deployment, (W1, W3), ray_env=ENV)
    run = rollout(deployment)
    assert run.code == 0, run.describe()
    assert_no_full_restart(run)
    first, second = batch_rows(run)
    for rows, restarted, batch in ((first, {W1}, {W1, W2}), (second, {W3}, {W3})):
        for step in ("Drain the worker", "Stop the worker", "Start the worker on the new version"):
            row = next(row for row in rows if step in row.operation)
            assert row.change == restarted, f"{step}:\n{run.describe()}"
        green = next(row for row in rows if "ALIVE and green" in row.operation)
        assert green.change == batch, run.describe()
    assert position(run, "Check the worker is ALIVE and green", {W1, W2}) < position(
        run, "Drain the worker before its restart", {W3})
    assert_head_untouched(run)


def test_leftovers_are_removed_in_the_workers_own_batch_only(tmp_path):
    # Hosts outside a batch pass: not the head, not a worker whose batch comes later.
    deployment = cluster(tmp_path)
    edit(deployment, WORKERS, ray_env=ENV)
    add_leftover(deployment, HEAD)
    add_leftover(deployment, W3)
    run = rollout(deployment)
    assert run.code == 0, run.describe()
    removals = [row for rows in batch_rows(run) for row in rows if "leftover" in row.operation]
    assert [touched(row) for row in removals] == [set(), set(), {W3}], run.describe()


def test_a_batch_size_below_one_is_refused_before_any_change(tmp_path):
    deployment = cluster(tmp_path, rollout_batch_size=0)
    edit(deployment, WORKERS, ray_env=ENV)
    run = rollout(deployment)
    lines = assert_refused(run, deployment.path)
    # Set for every host: one line naming them all.
    line = problem_line(lines, deployment.path, "rollout_batch_size=0")
    assert f"{W1}, " in line and "would restart no worker: use 1-10000" in line


# -- 2. a change the head restarts for: one full, ordered restart -------------------


@pytest.fixture(scope="module")
def head_env(tmp_path_factory):
    """ray_env changed on the head only."""
    deployment = cluster(tmp_path_factory.mktemp("head-env"))
    edit(deployment, [HEAD], ray_env=ENV)
    return rollout(deployment)


@pytest.fixture(scope="module")
def ray_upgrade(tmp_path_factory):
    """A Ray upgrade: ray_version and the image's tag everywhere, the new image not pulled yet."""
    deployment = cluster(tmp_path_factory.mktemp("ray-upgrade"))
    edit(deployment, ALL, ray_version="2.21.0", ray_image=UPGRADE_IMAGE)
    without_image(deployment, UPGRADE_IMAGE)
    return rollout(deployment)


@pytest.fixture(params=["head_env", "ray_upgrade"])
def head_change(request) -> Run:
    return request.getfixturevalue(request.param)


def test_head_change_is_announced_once_before_any_change(head_change):
    run = head_change
    assert run.code == 0, run.describe()
    assert run.output.count(FULL_RESTART) == 1, run.describe()
    announced = run.output.index(FULL_RESTART)
    assert announced < run.output.index("Ready: deploy/rollout.py"), run.describe()
    assert announced < run.output.index("--> Detected changes:"), run.describe()


def test_head_change_is_one_ordered_restart_not_batches(head_change):
    run = head_change
    assert not run.rows_matching(BATCH), run.describe()
    assert not run.rows_matching("Drain the worker"), run.describe()
    order = []
    for step, hosts in ORDERED_RESTART:
        assert run.changed(step) == hosts, f"{step}:\n{run.describe()}"
        order.append(position(run, step, hosts))
    assert order == sorted(order), run.operations()
    assert run.changed("Deploy the Serve config") == {HEAD}
    assert order[-1] < position(run, "Deploy the Serve config", {HEAD})


def test_ray_upgrade_pulls_everywhere_before_any_stop(ray_upgrade):
    run = ray_upgrade
    pull = position(run, f"Pull {UPGRADE_IMAGE}", ALL)
    assert pull < position(run, "Stop the Ray worker", set(WORKERS)), run.operations()


# -- 3. the promotion gate ---------------------------------------------------------------


@pytest.fixture
def prod(tmp_path):
    """A converged prod cluster with rollout_stage "prod" and an empty record directory."""
    records = tmp_path / "records"
    records.mkdir()
    deployment = cluster(tmp_path, rollout_stage="prod", rollout_record_dir=str(records))
    return deployment, records


_LOADS = itertools.count()


def loaded(deployment: Deployment):
    """The inventory as written now, loaded in-process the way the CLI loads it."""
    # pyinfra caches a file's compiled code by its path: each load gets a path of its own.
    copy = deployment.directory / f"loaded-{next(_LOADS)}" / deployment.path.name
    copy.parent.mkdir()
    copy.write_text(deployment.write().read_text())
    state, _ = _state(copy)
    return state.inventory


def digest_of(deployment: Deployment) -> tuple[str, list[dict], dict]:
    """(release digest, releases, the head's settings), from the inventory loaded in-process."""
    inventory = loaded(deployment)
    digest, releases = release_digest(inventory)
    return digest, releases, settings_for(inventory.get_host(HEAD))


def assert_gate_refused(run: Run, deployment: Deployment, digest: str) -> None:
    assert run.code != 0, run.describe()
    assert not run.has_change_table and not run.started_operations, run.describe()
    lines = [line.strip() for line in run.output.splitlines()
             if f"release {digest} has not been verified" in line]
    assert len(lines) == 1, run.describe()
    line = lines[0]
    assert f"{deployment.path}: release {digest} has not been verified" in line, line
    assert "rollout_allow_unverified" in line and line.endswith("nothing was changed"), line


def test_prod_refuses_an_unverified_release_before_any_change(prod):
    deployment, records = prod
    digest, _, _ = digest_of(deployment)
    run = rollout(deployment)
    assert_gate_refused(run, deployment, digest)
    assert str(records / f"{digest}.json") in run.output
    assert list(records.iterdir()) == []


def test_prod_accepts_a_release_staging_recorded(prod):
    deployment, records = prod
    digest, releases, settings = digest_of(deployment)
    path = write_record(settings, digest, releases, "inventories/staging.py")
    assert path == records / f"{digest}.json"
    run = rollout(deployment)
    assert run.code == 0, run.describe()
    assert "has not been verified" not in run.output
    assert run.has_change_table and run.rows_matching("Verify the cluster |"), run.describe()


def test_prod_accepts_the_record_of_a_staging_cluster_on_other_hosts(tmp_path):
    # The digest covers what the release is, not where it runs.
    records = tmp_path / "records"
    records.mkdir()
    (tmp_path / "staging").mkdir()
    (tmp_path / "prod").mkdir()
    staging = Deployment(tmp_path / "staging")
    staging.head("st-head", "192.0.2.30", rollout_record_dir=str(records))
    staging.worker("st-w1", "192.0.2.31", rollout_record_dir=str(records))
    staging.write()
    digest, releases = release_digest(loaded(staging))
    write_record({"rollout_record_dir": str(records)}, digest, releases, "inventories/staging.py")
    deployment = cluster(tmp_path / "prod", workers=(W1,), rollout_stage="prod",
                         rollout_record_dir=str(records))
    assert digest_of(deployment)[0] == digest
    run = rollout(deployment)
    assert run.code == 0 and "has not been verified" not in run.output, run.describe()


def test_a_record_does_not_cover_a_changed_release(prod):
    deployment, _ = prod
    recorded, releases, settings = digest_of(deployment)
    write_record(settings, recorded, releases, "inventories/staging.py")
    edit(deployment, WORKERS, ray_env=ENV)
    digest, _, _ = digest_of(deployment)
    assert digest != recorded
    assert_gate_refused(rollout(deployment), deployment, digest)


def test_allow_unverified_overrides_the_gate_for_one_run(prod):
    deployment, records = prod
    run = rollout(deployment, "--data", "rollout_allow_unverified=true")
    assert run.code == 0, run.describe()
    assert "has not been verified" not in run.output
    assert run.has_change_table, run.describe()
    assert list(records.iterdir()) == []


def test_a_prod_inventory_is_gated_by_its_group_data(tmp_path):
    # An inventory file named prod.py puts its hosts in group `prod`: group_data/prod.py
    # gives them rollout_stage "prod", as for inventories/prod.py.
    records = tmp_path / "records"
    records.mkdir()
    deployment = cluster(tmp_path, filename="prod.py", rollout_record_dir=str(records))
    digest, _, _ = digest_of(deployment)
    assert_gate_refused(rollout(deployment), deployment, digest)


def test_a_staging_inventory_records_its_release_by_its_group_data(tmp_path):
    deployment = cluster(tmp_path, filename="staging.py", rollout_record_dir=str(tmp_path / "records"))
    run = rollout(deployment)
    assert run.code == 0, run.describe()
    assert run.changed("Record what this staging rollout verified") == {HEAD}, run.describe()


def test_a_staging_rollout_lists_the_record_on_the_head(tmp_path):
    records = tmp_path / "records"
    deployment = cluster(tmp_path, rollout_stage="staging", rollout_record_dir=str(records))
    run = rollout(deployment)
    assert run.code == 0, run.describe()
    assert run.changed("Record what this staging rollout verified") == {HEAD}, run.describe()
    assert position(run, "Check this node's endpoints") < position(
        run, "Record what this staging rollout verified", {HEAD})
    assert not records.exists()  # --dry records nothing


# -- 4. deploy/verify.py -------------------------------------------------------------------


@pytest.mark.parametrize("pending", [False, True], ids=["converged", "release-pending"])
def test_verify_only_verifies(tmp_path, pending):
    deployment = cluster(tmp_path)
    if pending:
        edit(deployment, ALL, ray_env=ENV)
    run = deployment.dry(deploy="deploy/verify.py")
    assert run.code == 0, run.describe()
    assert run.operations() == VERIFY_STEPS, run.describe()
    # The checks only read: none is listed as a change.
    for row in run.rows:
        assert not row.change and not row.conditional, run.describe()
    for word in ("Docker", "Write", "Pull", "Stop", "Start", "Drain", "full, ordered restart"):
        assert word not in run.output.split("--> Detected changes:")[1], run.describe()


def test_verify_refuses_an_inventory_with_two_heads(tmp_path):
    deployment = Deployment(tmp_path)
    deployment.head("head", HEAD_IP)
    deployment.head("head2", "192.0.2.20")
    deployment.worker("w1", WORKER_IPS[0])
    run = deployment.dry(deploy="deploy/verify.py")
    assert run.code != 0, run.describe()
    assert not run.has_change_table and not run.started_operations, run.describe()
    assert "the inventory is not valid:" in run.output, run.describe()
    line = next((line.strip() for line in run.output.splitlines()
                 if "2 hosts in group ray_head" in line), None)
    assert line == (f"{deployment.path}: 2 hosts in group ray_head (@fake/head, @fake/head2): "
                    "exactly one host runs the Ray head"), run.describe()

"""A host only in group `monitoring` gets Prometheus, and nothing of a Ray node,
from every entry point that changes hosts (a lost one comes back with rebuild.py)."""

import pytest

from tests.cli.cli import WORKER_IPS, Deployment

PROMETHEUS = "@fake/prom-1"


@pytest.mark.parametrize("entry", ["deploy/cluster.py", "deploy/rebuild.py", "deploy/rollout.py"])
def test_a_dedicated_monitoring_host_gets_prometheus_and_no_ray_node(tmp_path, entry):
    deployment = Deployment(tmp_path)
    deployment.head()
    deployment.worker()
    deployment.host("monitoring", "prom-1", WORKER_IPS[2])

    run = deployment.dry(deploy=entry)

    assert run.code == 0, run.describe()
    assert PROMETHEUS in run.changed("Install prometheus from the distribution's packages")
    assert PROMETHEUS in run.changed("Write the scrape targets")
    touched_by_ray = {
        row.operation for row in run.rows
        if PROMETHEUS in row.change | row.conditional
        and any(word in row.operation for word in ("Docker", "Ray", "Serve", "compose"))
    }
    assert touched_by_ray == set()


COPY_DASHBOARDS = "Copy Ray's Grafana dashboards from the head to the control machine"


def test_without_a_monitoring_host_no_dashboard_is_read_from_the_head(tmp_path):
    deployment = Deployment(tmp_path)
    head = deployment.head()
    deployment.worker()
    run = deployment.dry()
    assert run.code == 0, run.describe()
    assert run.rows_matching(COPY_DASHBOARDS) == [], run.describe()

    deployment.host("monitoring", "prom-1", WORKER_IPS[2])
    deployment.write()
    run = deployment.dry()
    assert run.code == 0, run.describe()
    assert run.changes_anywhere(COPY_DASHBOARDS) == {head}, run.describe()

"""The verify checks, against a small local HTTP server shaped like a Ray 2.20.0 head."""

import itertools
import json
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from seedcore import checks
from seedcore.reach import FROM_CONTROL

NODES = {
    "result": True,
    "msg": "",
    "data": {
        "result": {
            "total": 2,
            "num_after_truncation": 2,
            "num_filtered": 2,
            "result": [
                {"node_id": "f3a0" * 14, "node_ip": "10.0.0.10", "is_head_node": True, "state": "ALIVE",
                 "node_name": "10.0.0.10", "resources_total": {"CPU": 8.0, "memory": 2.1e10}},
                {"node_id": "9b1c" * 14, "node_ip": "10.0.0.11", "is_head_node": False, "state": "ALIVE",
                 "node_name": "10.0.0.11", "resources_total": {"CPU": 16.0, "memory": 4.2e10}},
            ],
            "partial_failure_warning": "",
            "warnings": None,
        },
    },
}

METRICS = """\
# HELP ray_node_cpu_utilization Total CPU usage on a ray node
# TYPE ray_node_cpu_utilization gauge
ray_node_cpu_utilization{InstanceId="",SessionName="session_2024-06-10_08-15-03",ip="10.0.0.10"} 3.2
# HELP ray_node_mem_used Memory usage on a ray node
# TYPE ray_node_mem_used gauge
ray_node_mem_used{ip="10.0.0.10"} 1.2e+09
ray_node_mem_used{ip="10.0.0.11"} 1.1e+09
# HELP python_gc_objects_collected_total Objects collected during gc
python_gc_objects_collected_total{generation="0"} 1234.0
"""

GOOD_ROUTES = {
    "/api/version": (200, "application/json",
                     json.dumps({"version": "4", "ray_version": "2.20.0", "ray_commit": "5708e75978"})),
    "/api/gcs_healthz": (200, "text/plain", "success"),
    "/api/v0/nodes": (200, "application/json", json.dumps(NODES)),
    "/metrics": (200, "text/plain; version=0.0.4", METRICS),
    "/-/healthz": (200, "text/plain", "success"),
    "/health": (200, "application/json",
                json.dumps({"status": "ok", "ray_version": "2.20.0", "alive_nodes": 2})),
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        self.server.requests.append(self.path)
        status, content_type, body = self.server.routes.get(
            urlsplit(self.path).path, (404, "text/plain", "Not Found"))
        payload = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    """A local server with the good answers; tests change `server.routes` to break it."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.routes = dict(GOOD_ROUTES)
    httpd.requests = []
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    httpd.address, httpd.port = httpd.server_address
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _now():
    """A deadline already reached: poll probes once and reports."""
    return time.monotonic()


# --------------------------------------------------------------------------- probes that pass

def test_probes_pass_against_a_healthy_head(server):
    a, p = server.address, server.port
    probes = {
        "version": checks.probe_version(FROM_CONTROL, a, p, "2.20.0"),
        "gcs": checks.probe_text(FROM_CONTROL, f"http://{a}:{p}/api/gcs_healthz", "success"),
        "alive": checks.probe_alive_count(FROM_CONTROL, a, p, 2),
        "node": checks.probe_node_alive(FROM_CONTROL, a, p, "10.0.0.11"),
        "metrics": checks.probe_metrics(FROM_CONTROL, a, p),
        "proxy": checks.probe_text(FROM_CONTROL, f"http://{a}:{p}/-/healthz", "success"),
        "health": checks.probe_health_route(FROM_CONTROL, f"http://{a}:{p}/health", "2.20.0"),
    }
    results = {name: checks.poll("head-1", name, probe, _now()) for name, probe in probes.items()}
    assert {name: r.ok for name, r in results.items()} == dict.fromkeys(probes, True)
    assert results["version"].detail == "ray_version 2.20.0 (expected 2.20.0)"
    assert results["alive"].detail == "2 ALIVE nodes (expected 2)"
    assert results["node"].detail == "10.0.0.11 in ALIVE nodes ['10.0.0.10', '10.0.0.11']"
    assert results["metrics"].detail == "HTTP 200, 2 ray_ series"
    assert results["gcs"].detail == "HTTP 200: success"
    assert all("gave up" not in r.detail for r in results.values())


def test_alive_nodes_asks_the_state_api_for_alive_nodes_only(server):
    nodes = checks.alive_nodes(FROM_CONTROL, server.address, server.port)
    assert [node["node_ip"] for node in nodes] == ["10.0.0.10", "10.0.0.11"]
    (request,) = server.requests
    assert request.startswith("/api/v0/nodes?")
    assert "filter_keys=state" in request
    assert "filter_predicates=%3D" in request
    assert "filter_values=ALIVE" in request


def test_result_carries_host_check_and_seconds(server):
    url = f"http://{server.address}:{server.port}/api/gcs_healthz"
    result = checks.poll("head-1", "gcs health", checks.probe_text(FROM_CONTROL, url, "success"), _now())
    record = result.as_dict()
    seconds = record.pop("seconds")
    assert record == {"host": "head-1", "check": "gcs health", "ok": True, "detail": "HTTP 200: success"}
    # One local request: measured, rounded to a tenth, and well under a second.
    assert isinstance(seconds, float) and seconds == round(seconds, 1) and 0 <= seconds < 1


# --------------------------------------------------------------------------- probes that fail

def test_wrong_ray_version(server):
    server.routes["/api/version"] = (200, "application/json", json.dumps({"ray_version": "2.9.3"}))
    result = checks.poll("head-1", "dashboard version",
                         checks.probe_version(FROM_CONTROL, server.address, server.port, "2.20.0"), _now())
    assert not result.ok
    assert result.detail.startswith("ray_version 2.9.3 (expected 2.20.0)")
    assert "gave up after" in result.detail


def test_version_endpoint_missing(server):
    del server.routes["/api/version"]
    result = checks.poll("head-1", "dashboard version",
                         checks.probe_version(FROM_CONTROL, server.address, server.port, "2.20.0"), _now())
    assert not result.ok
    assert result.detail.startswith("HTTP 404")


def test_gcs_not_healthy(server):
    server.routes["/api/gcs_healthz"] = (503, "text/plain", "GCS is not reachable: Deadline Exceeded")
    result = checks.poll("head-1", "gcs health", checks.probe_text(FROM_CONTROL,
        f"http://{server.address}:{server.port}/api/gcs_healthz", "success"), _now())
    assert not result.ok
    assert result.detail.startswith("HTTP 503: GCS is not reachable")


def test_text_probe_needs_status_200_even_when_the_body_matches(server):
    server.routes["/-/healthz"] = (500, "text/plain", "success? no: proxy draining")
    result = checks.poll("head-1", "serve proxy", checks.probe_text(FROM_CONTROL,
        f"http://{server.address}:{server.port}/-/healthz", "success"), _now())
    assert not result.ok


def test_too_few_alive_nodes(server):
    result = checks.poll("head-1", "alive nodes",
                         checks.probe_alive_count(FROM_CONTROL, server.address, server.port, 3), _now())
    assert not result.ok
    assert result.detail.startswith("2 ALIVE nodes (expected 3)")


def test_worker_missing_from_alive_nodes(server):
    result = checks.poll("worker-2", "node alive",
                         checks.probe_node_alive(FROM_CONTROL,
                             server.address, server.port, "10.0.0.12"), _now())
    assert not result.ok
    assert result.detail.startswith("10.0.0.12 not in ALIVE nodes ['10.0.0.10', '10.0.0.11']")


def test_metrics_without_ray_series(server):
    server.routes["/metrics"] = (200, "text/plain", "# HELP up\npython_info{version=\"3.10\"} 1.0\n")
    result = checks.poll("worker-1", "metrics", checks.probe_metrics(FROM_CONTROL,
        server.address, server.port), _now())
    assert not result.ok
    assert result.detail.startswith("HTTP 200, 0 ray_ series")


def test_health_route_reports_the_body(server):
    server.routes["/health"] = (200, "application/json",
                                json.dumps({"status": "ok", "ray_version": "2.9.3", "alive_nodes": 2}))
    result = checks.poll("head-1", "serve /health", checks.probe_health_route(FROM_CONTROL,
        f"http://{server.address}:{server.port}/health", "2.20.0"), _now())
    assert not result.ok
    assert "'ray_version': '2.9.3'" in result.detail


def test_health_route_missing(server):
    del server.routes["/health"]
    result = checks.poll("head-1", "serve /health", checks.probe_health_route(FROM_CONTROL,
        f"http://{server.address}:{server.port}/health", "2.20.0"), _now())
    assert not result.ok
    assert result.detail.startswith("HTTP 404: Not Found")


def test_nothing_listening(closed_port):
    result = checks.poll("head-1", "dashboard version",
                         checks.probe_version(FROM_CONTROL, "127.0.0.1", closed_port, "2.20.0"), _now())
    assert not result.ok
    assert result.detail.startswith("Unreachable: ")
    assert "not reachable from the control machine" in result.detail
    assert "gave up after" in result.detail


def test_state_api_error_status_is_a_failed_check(server):
    server.routes["/api/v0/nodes"] = (500, "application/json",
                                      json.dumps({"result": False, "msg": "GCS unavailable", "data": {}}))
    result = checks.poll("head-1", "alive nodes",
                         checks.probe_alive_count(FROM_CONTROL, server.address, server.port, 2), _now())
    assert not result.ok
    assert result.detail.startswith("HTTPError: 500")


def test_state_api_answer_of_the_wrong_shape_is_a_failed_check(server):
    server.routes["/api/v0/nodes"] = (
        200, "application/json",
        json.dumps({"result": False, "msg": "Failed to query nodes: DataSourceUnavailable", "data": {}}),
    )
    result = checks.poll("head-1", "alive nodes",
                         checks.probe_alive_count(FROM_CONTROL, server.address, server.port, 2), _now())
    assert not result.ok
    assert "gave up after" in result.detail
    assert result.detail.startswith("BadAnswer: the answer has no data.result")


@pytest.mark.parametrize("body", [
    [1, 2], {"data": {"result": {"result": "three nodes"}}},
    {"data": {"result": {"result": [{"state": "ALIVE"}]}}}, {"data": []},
], ids=["a list", "nodes as text", "a node without node_ip", "data as a list"])
def test_every_wrong_shape_of_the_node_list_is_a_red_check_not_a_bug(server, body):
    server.routes["/api/v0/nodes"] = (200, "application/json", json.dumps(body))
    probe = checks.probe_node_alive(FROM_CONTROL, server.address, server.port, "10.0.0.11")
    result = checks.poll("head-1", "worker alive", probe, _now())
    assert not result.ok and result.detail.startswith("BadAnswer: ")


def test_a_bug_in_a_probe_fails_at_once_naming_the_check_not_after_the_deadline(caplog):
    def probe():
        return {}["ready"], "never"

    started = time.monotonic()
    with caplog.at_level("DEBUG", logger="seedcore.checks"), pytest.raises(checks.ProbeBug) as raised:
        checks.poll_all("head-1", [("gcs health", probe, None)], time.monotonic() + 60)
    assert time.monotonic() - started < 5
    assert str(raised.value).startswith("check 'gcs health' of head-1 has a bug: KeyError: 'ready'")
    assert "Traceback" in caplog.text and 'return {}["ready"], "never"' in caplog.text


# --------------------------------------------------------------------------- poll

def test_poll_retries_until_the_probe_passes(monkeypatch):
    monkeypatch.setattr(checks, "RETRY_PAUSE_S", 0)
    answers = iter([(False, "starting"), (False, "starting"), (True, "ready")])
    calls = []

    def probe():
        calls.append(1)
        return next(answers)

    result = checks.poll("head-1", "gcs health", probe, time.monotonic() + 60)
    assert result.ok
    assert result.detail == "ready"
    assert len(calls) == 3


def test_poll_gives_up_at_its_deadline_with_the_last_detail(monkeypatch):
    monkeypatch.setattr(checks, "RETRY_PAUSE_S", 0.01)
    seen = []

    def probe():
        seen.append(len(seen))
        return False, f"attempt {len(seen)}"

    result = checks.poll("head-1", "gcs health", probe, time.monotonic() + 0.2)
    assert not result.ok
    assert len(seen) >= 2
    assert result.detail.startswith(f"attempt {len(seen)} (gave up after ")
    assert result.host == "head-1" and result.check == "gcs health"


# --------------------------------------------------------------------------- log signatures

def test_log_results_mark_a_found_signature_red():
    results = checks.log_results("head-1", "seedcore-ray-head",
                                 {"Address already in use": 3, "assert not dest.done()": 0})
    by_check = {r.check: r for r in results}
    assert set(by_check) == {"log:metrics_port_clash", "log:serve_future_race"}
    assert by_check["log:metrics_port_clash"].ok is False
    assert by_check["log:metrics_port_clash"].detail == \
        "3 x 'Address already in use' in seedcore-ray-head logs"
    assert by_check["log:serve_future_race"].ok is True
    assert all(r.host == "head-1" for r in results)


def test_log_results_of_a_missing_container_are_red_not_ok():
    results = checks.log_results("worker-1", "seedcore-ray-worker", None)
    assert [(r.check, r.ok, r.detail) for r in results] == [
        ("log:metrics_port_clash", False, "seedcore-ray-worker logs not read: no such container"),
        ("log:serve_future_race", False, "seedcore-ray-worker logs not read: no such container"),
    ]


def test_log_results_treat_a_missing_count_as_zero():
    results = checks.log_results("worker-1", "seedcore-ray-worker", {})
    assert all(r.ok for r in results)
    assert len(results) == len(checks.LOG_SIGNATURES)


def test_poll_is_red_at_once_when_the_check_cannot_turn_green(monkeypatch):
    monkeypatch.setattr(checks, "RETRY_PAUSE_S", 0.01)
    calls = []

    def probe():
        calls.append(1)
        return False, "10.0.0.12 not in ALIVE nodes ['10.0.0.10']"

    started = time.monotonic()
    result = checks.poll("worker-2", "node alive", probe, time.monotonic() + 60,
                         doomed=lambda: "container seedcore-ray-worker is exited, not running")
    assert time.monotonic() - started < 1
    assert calls == [1]
    assert result.ok is False
    assert result.detail == (
        "container seedcore-ray-worker is exited, not running (red at once, after 0s; "
        "last seen: 10.0.0.12 not in ALIVE nodes ['10.0.0.10'])"
    )


def test_poll_keeps_waiting_while_the_check_may_still_turn_green(monkeypatch):
    monkeypatch.setattr(checks, "RETRY_PAUSE_S", 0)
    answers = iter([(False, "starting"), (True, "ready")])
    asked = []

    def doomed():
        asked.append(1)
        return None

    result = checks.poll("head-1", "gcs health", lambda: next(answers), time.monotonic() + 60, doomed)
    assert (result.ok, result.detail, len(asked)) == (True, "ready", 1)


def test_poll_asks_whether_a_check_is_doomed_at_most_every_few_seconds(monkeypatch):
    monkeypatch.setattr(checks, "RETRY_PAUSE_S", 0)
    answers = iter([(False, "starting")] * 5 + [(True, "ready")])
    asked = []

    def doomed():
        asked.append(1)
        return None

    result = checks.poll("head-1", "gcs health", lambda: next(answers), time.monotonic() + 60, doomed)
    assert (result.ok, len(asked)) == (True, 1)


@pytest.mark.parametrize("role", ["head", "worker"])
def test_serve_health_stops_waiting_once_the_run_lost_a_node(monkeypatch, role):
    """A Serve replica may have lived on the lost node: the route's check is red
    at once with that reason, not after verify_timeout_s."""
    from seedcore.tasks import verify
    from tests.harness import make_node

    def failing(*args, **kwargs):
        return lambda: (False, "HTTP 503")

    for name in ("probe_version", "probe_text", "probe_alive_count", "probe_metrics", "probe_health_route",
                 "probe_node_alive"):
        monkeypatch.setattr(verify.checks, name, failing)
    lost = "host worker-2: container seedcore-ray-worker is exited"
    results = verify.node_checks(make_node(role=role), 3, 2, doomed=None, cluster_doomed=lambda: lost)
    by_check = {result.check: result for result in results}
    assert by_check["serve /health"].ok is False
    assert by_check["serve /health"].detail.startswith(
        "host worker-2: container seedcore-ray-worker is exited (red at once"), by_check["serve /health"]


def test_a_lost_member_turns_a_check_red_at_once_only_once_its_endpoint_answers():
    from seedcore.reach import Unreachable

    answers = itertools.chain([Unreachable("172.29.77.12:8000 not reachable"), Unreachable("still starting")],
                              itertools.repeat((False, "alive_nodes 3, expected 4")))

    def probe():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    asked = []

    def lost():
        asked.append(True)
        return "host worker-3: failed earlier in this run"

    watched, why = checks.when_answered(probe, lost)
    result = checks.poll("worker-1", "serve /health", watched, time.monotonic() + 30, why)
    assert not result.ok
    assert result.detail.startswith("host worker-3: failed earlier in this run (red at once")
    assert "alive_nodes 3, expected 4" in result.detail
    # Asked only once the route answered (at most every DOOMED_PAUSE_S), not for the refusals.
    assert len(asked) == 1


def test_an_endpoint_that_comes_up_is_green_though_a_member_was_lost():
    from seedcore.reach import Unreachable

    answers = iter([Unreachable("not up yet"), (True, "{'status': 'ok', 'alive_nodes': 4}")])

    def probe():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    watched, why = checks.when_answered(probe, lambda: "host worker-3: failed earlier in this run")
    result = checks.poll("worker-1", "serve /health", watched, time.monotonic() + 30, why)
    assert result.ok, result.detail


def _counts(server) -> tuple[dict, Callable]:
    seen: dict = {}
    address = server.address
    alive = checks.probe_alive_count(FROM_CONTROL, address, server.port, 2, seen)
    health = checks.probe_health_route(FROM_CONTROL, f"http://{address}:{server.port}/health", "2.20.0", seen)

    def read():
        alive()
        health()

    return seen, read


def test_the_head_node_counts_agree_as_one_finding(server):
    seen, read = _counts(server)
    read()
    result = checks.counts_agree("head-1", seen, read, pause_s=0)
    assert result.ok, result
    assert "the dashboard lists 2 ALIVE nodes, Serve's /health counts 2" in result.detail


def test_counts_that_disagree_are_read_again_then_named_as_their_own_finding(server):
    seen, read = _counts(server)
    read()
    server.routes["/health"] = (200, "application/json",
                                json.dumps({"status": "ok", "ray_version": "2.20.0", "alive_nodes": 3}))
    seen["health"] = 3
    result = checks.counts_agree("head-1", seen, read, pause_s=0)
    assert not result.ok and result.check == "node counts agree"
    assert "the dashboard lists 2 ALIVE nodes, Serve's /health counts 3" in result.detail
    assert "disagree" in result.detail


def test_counts_that_settle_when_read_again_agree(server):
    seen, read = _counts(server)
    read()
    seen["health"] = 1  # a stale count, as the health app may hold for 2 s
    assert checks.counts_agree("head-1", seen, read, pause_s=0).ok


def test_no_finding_when_a_count_was_never_read():
    assert checks.counts_agree("head-1", {"dashboard": 2}) is None

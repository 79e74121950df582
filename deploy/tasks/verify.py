"""Verify every node from the control machine, then report per host.

Two operations: each host runs its own checks (never failing), then each
host reports; the first to report prints the cluster's table and writes the
JSON file, and every host with a red check fails, naming the check.
"""

import time

from gevent.lock import Semaphore
from pyinfra.api import deploy
from pyinfra.operations import python

from deploy import checks
from deploy.defaults import VERIFY_DEFAULTS
from deploy.facts.docker import LogSignatureCounts
from deploy.facts.gpu import ContainerGpus, DockerRuntimes
from deploy.report import document, table, write
from deploy.topology import Node

_REPORT_LOCK = Semaphore()


def results_of(state) -> dict[str, list[checks.Result]]:
    """This run's check results by host, kept on the run's own state."""
    if not hasattr(state, "seedcore_verify_results"):
        state.seedcore_verify_results = {}
    return state.seedcore_verify_results


class VerifyFailed(Exception):
    """A check stayed red until its deadline."""


def node_checks(node: Node, expected_nodes: int, timeout_s: int) -> list[checks.Result]:
    s = node.settings
    deadline = time.monotonic() + timeout_s
    dash, metrics, serve = s["ray_dashboard_port"], s["ray_metrics_export_port"], s["serve_http_port"]
    address, head = node.address, node.head_address
    name = node.name
    probes = []
    if node.role == "head":
        probes += [
            ("dashboard version", checks.probe_version(address, dash, s["ray_version"])),
            ("gcs health", checks.probe_text(f"http://{address}:{dash}/api/gcs_healthz", "success")),
            ("alive nodes", checks.probe_alive_count(address, dash, expected_nodes)),
            ("metrics", checks.probe_metrics(address, metrics)),
            ("serve proxy", checks.probe_text(f"http://{address}:{serve}/-/healthz", "success")),
            ("serve /health", checks.probe_health_route(
                f"http://{address}:{serve}{s['serve_health_route']}", s["ray_version"])),
        ]
    else:
        probes += [
            ("metrics", checks.probe_metrics(address, metrics)),
            ("node alive", checks.probe_node_alive(head, dash, address)),
        ]
    if node.gpus:
        probes.append(("ray GPUs", checks.probe_node_gpus(head, dash, address, node.gpus)))
    return [checks.poll(name, check, probe, deadline) for check, probe in probes]


def _check_host(state, host, node: Node, expected_nodes: int):
    results = node_checks(node, expected_nodes, node.settings["verify_timeout_s"])
    counts = host.get_fact(
        LogSignatureCounts, container=node.container,
        signatures=list(checks.LOG_SIGNATURES.values()),
    )
    results += checks.log_results(host.name, node.container, counts or {})
    if node.gpus:
        runtimes = host.get_fact(DockerRuntimes)
        results.append(checks.Result(host.name, "docker nvidia runtime", "nvidia" in runtimes,
                                     f"Docker runtimes: {', '.join(runtimes) or 'none'}"))
        listed = host.get_fact(ContainerGpus, container=node.container)
        results.append(checks.container_gpu_result(host.name, node.container, listed, node.gpus))
    results_of(state)[host.name] = results


def _report(state, host, report_path: str, all_hosts: list[str]):
    results = results_of(state)
    with _REPORT_LOCK:
        if not getattr(state, "seedcore_verify_reported", False):
            ordered = {name: results[name] for name in all_hosts if name in results}
            missing = [name for name in all_hosts if name not in results]
            report = document(ordered, missing)
            write(report_path, report)
            print("\n--> Verify report (" + report_path + ")\n" + table(ordered, missing) + "\n")
            state.seedcore_verify_reported = True
    failures = [r for r in results.get(host.name, []) if not r.ok]
    if failures:
        raise VerifyFailed(
            f"host {host.name} failed: " + "; ".join(f"{r.check}: {r.detail}" for r in failures)
        )


@deploy("Verify the cluster", data_defaults=VERIFY_DEFAULTS)
def verify_node(node: Node, expected_nodes: int, all_hosts: list[str]):
    python.call(name="Check this node's endpoints and logs from the control machine",
                function=_check_host, node=node, expected_nodes=expected_nodes)
    python.call(name="Report the checks and fail on any red one",
                function=_report, report_path=node.settings["verify_report_path"],
                all_hosts=all_hosts)

"""Verify every node through its host's SSH connection, then report per host.

Two operations, both read-only (never listed as changes): each host runs its
own checks, then each host reports; the first to report prints the cluster's
table, one summary line and writes the JSON file. A red check makes the run
exit non-zero (seedcore/outcome.py) without failing its host mid-run: no
traceback, and the steps after verify still run.
"""

import ssl
import time

from pyinfra.api import deploy
from pyinfra.operations import python

from seedcore import checks
from seedcore.defaults import VERIFY_DEFAULTS
from seedcore.facts.docker import LogSignatureCounts
from seedcore.facts.gpu import ContainerGpus, DockerRuntimes
from seedcore.facts.host import FileText
from seedcore.facts.ray import GcsStorageType
from seedcore.hostfacts import project_containers, read_now
from seedcore.lock import deploy_running
from seedcore.outcome import note_red
from seedcore.pyinfra_seam import read_only
from seedcore.reach import FROM_CONTROL, Reach, through
from seedcore.render import tls_paths
from seedcore.report import document, summary, table, write
from seedcore.run_context import run_of
from seedcore.runwatch import failure_reason
from seedcore.tasks.web import door_results
from seedcore.tls_session import client_context
from seedcore.topology import Node
from seedcore.view import view_lines
from seedcore.web import doors

# Container states that do not come back by themselves.
DEAD_STATES = ("exited", "dead", "created", "removing")


def results_of(state) -> dict[str, list[checks.Result]]:
    """This run's check results by host."""
    return run_of(state).verify_results


def lost_nodes_of(state) -> dict[str, str]:
    """Host name -> why its node cannot turn green in this run (its container exited...)."""
    return run_of(state).lost_nodes


def container_problem(container: dict | None, name: str) -> str | None:
    """Why a node's container cannot turn green by waiting, or None."""
    if container is None:
        return f"container {name} is missing"
    if container["status"] in DEAD_STATES:
        return f"container {name} is {container['status']}, not running"
    return None


def node_container_problem(host, node: Node) -> str | None:
    """Why `node`'s container on `host`, read now, cannot turn green by waiting, or None."""
    containers = project_containers(host, node.settings, fresh=True)
    return container_problem(next((c for c in containers if c["name"] == node.container), None),
                             node.container)


def lost_hosts(state) -> dict[str, str]:
    """Hosts this run has lost, with why: failed earlier in the run, or a node
    whose container is gone (found by this run's checks)."""
    lost = {failed.name: f"failed earlier in this run ({failure_reason(state, failed.name)})"
            for failed in state.failed_hosts}
    lost.update(lost_nodes_of(state))
    return lost


def lost_members(state, host_name: str, all_hosts: list[str]) -> str | None:
    """Why the cluster cannot reach its full node count in this run, or None."""
    lost = lost_hosts(state)
    return "; ".join(f"host {name}: {lost[name]}" for name in all_hosts
                     if name != host_name and name in lost) or None


def gcs_store_context(node: Node) -> ssl.SSLContext | None:
    """How the head's store checks speak to a TLS-only store (None: plain Redis):
    trusting the cluster's CA only and showing the head's own certificate (kept
    on the control machine in tls_dir/nodes), as the head's GCS does."""
    if not node.gcs_store_tls or node.tls is None:
        return None
    # Imported here, as in deploy.topology: only TLS runs load the store's code.
    from seedcore.tls_store import node_paths

    cert, key = node_paths(node.settings["tls_dir"], node.name)
    return client_context(node.tls.ca_cert, str(cert), str(key))


def node_checks(node: Node, expected_nodes: int, timeout_s: int, doomed=None, cluster_doomed=None,
                reach: Reach = FROM_CONTROL) -> list[checks.Result]:
    """The node's checks, polled side by side until green or `timeout_s`, every
    endpoint reached through `reach` (each try on a channel of its own).
    `doomed` says why no check of this node can turn green; `cluster_doomed`
    why the node count cannot."""
    s = node.settings
    deadline = time.monotonic() + timeout_s
    dash, metrics, serve = s["ray_dashboard_port"], s["ray_metrics_export_port"], s["serve_http_port"]
    address, head = node.address, node.head_address
    name = node.name
    probes = []
    # The head's two node counts, as last read: one finding compares them (counts_agree).
    seen: dict = {}
    health_url = f"http://{address}:{serve}{s['serve_health_route']}"
    if node.role == "head":
        probes += [
            ("dashboard version", checks.probe_version(reach, address, dash, s["ray_version"])),
            ("gcs health", checks.probe_text(reach, f"http://{address}:{dash}/api/gcs_healthz", "success")),
            ("alive nodes", *checks.when_answered(
                checks.probe_alive_count(reach, address, dash, expected_nodes, seen), cluster_doomed)),
            ("metrics", checks.probe_metrics(reach, address, metrics)),
            ("serve proxy", checks.probe_text(reach, f"http://{address}:{serve}/-/healthz", "success")),
            # A replica behind it may have lived on a node this run lost.
            ("serve /health", *checks.when_answered(checks.probe_health_route(
                reach, health_url, s["ray_version"], seen), cluster_doomed)),
        ]
        if node.gcs_store:
            tls = gcs_store_context(node)
            probes += [
                ("gcs store", checks.probe_gcs_store(reach, node.gcs_store, node.gcs_store_password, tls)),
                ("gcs tables in store", checks.probe_gcs_tables(
                    reach, node.gcs_store, node.gcs_store_password, s["ray_gcs_store_namespace"], tls)),
            ]
    else:
        probes += [
            ("metrics", checks.probe_metrics(reach, address, metrics)),
            ("node alive", checks.probe_node_alive(reach, head, dash, address)),
        ]
        if s["serve_proxy_location"] == "EveryNode":
            # The node's own proxy and health replica: a client may use any node.
            probes += [
                ("serve proxy", checks.probe_text(reach, f"http://{address}:{serve}/-/healthz", "success")),
                ("serve /health", *checks.when_answered(checks.probe_health_route(reach,
                    f"http://{address}:{serve}{s['serve_health_route']}", s["ray_version"]), cluster_doomed)),
            ]
    if node.gpus:
        probes.append(("ray GPUs", checks.probe_node_gpus(reach, head, dash, address, node.gpus)))
    # The node's checks turning red together read its container once.
    doomed = checks.shared(doomed) if doomed else None
    polls = []
    for check, probe, *extra in probes:
        reasons = [doomed, *extra]

        def why(reasons=reasons):
            return "; ".join(r for r in (f() for f in reasons if f) if r) or None

        polls.append((check, probe, why))
    results = checks.poll_all(name, polls, deadline)

    def read_again():
        for probe in (checks.probe_alive_count(reach, address, dash, expected_nodes, seen),
                      checks.probe_health_route(reach, health_url, s["ray_version"], seen)):
            try:
                probe()
            except (OSError, ValueError):
                pass

    agreement = checks.counts_agree(name, seen, read_again) if node.role == "head" else None
    return results + ([agreement] if agreement else [])


def host_reads(node: Node) -> list:
    """What verify reads on the node's host ([Fact, kwargs] pairs, each fact once):
    the container's log signatures; with TLS, the node certificate (never the
    key); on a head with the GCS store, the storage its GCS reported; on a GPU
    host, Docker's runtimes and the GPUs nvidia-smi lists in the container."""
    reads = [[LogSignatureCounts, {"container": node.container,
                                   "signatures": list(checks.LOG_SIGNATURES.values())}]]
    if node.tls is not None:
        reads.append([FileText, {"path": tls_paths(node.settings)["cert"]}])
    if node.role == "head" and node.gcs_store:
        reads.append([GcsStorageType, {"container": node.container}])
    if node.gpus:
        reads += [[DockerRuntimes, {}], [ContainerGpus, {"container": node.container}]]
    return reads


def _check_host(state, host, node: Node, expected_nodes: int, all_hosts: list[str]):
    def doomed():
        problem = node_container_problem(host, node)
        if problem:
            lost_nodes_of(state)[host.name] = problem
        return problem

    def cluster_doomed():
        return lost_members(state, host.name, all_hosts)

    reach = through(host)
    started = time.monotonic()
    results = node_checks(node, expected_nodes, node.settings["verify_timeout_s"], doomed, cluster_doomed,
                          reach)
    if doors(host, node.settings):
        # The head's web door: 401 without the password, 200 with it.
        results += door_results(host, state.inventory, reach, "dashboard",
                                started + node.settings["verify_timeout_s"])
    # Read once the endpoints have answered (the logs as they are then), in one command.
    reads = host_reads(node)
    values = dict(zip([cls for cls, _ in reads], read_now(host, reads), strict=True))
    results += checks.log_results(host.name, node.container, values[LogSignatureCounts])
    if node.tls is not None:
        # What is really on the host: its certificate's PEM, read back now (never the key).
        path = tls_paths(node.settings)["cert"]
        results.append(checks.tls_expiry_result(host.name, values[FileText], path,
                                                 node.settings["tls_expiry_warn_days"]))
    if GcsStorageType in values:
        results.append(checks.gcs_storage_result(host.name, values[GcsStorageType]))
    if node.gpus:
        runtimes = values[DockerRuntimes]
        results.append(checks.Result(host.name, "docker nvidia runtime", "nvidia" in runtimes,
                                     f"Docker runtimes: {', '.join(runtimes) or 'none'}"))
        results.append(checks.container_gpu_result(host.name, node.container, values[ContainerGpus],
                                                   node.gpus))
    results_of(state)[host.name] = results


def _report(state, host, report_path: str, all_hosts: list[str]):
    results = results_of(state)
    run = run_of(state)
    with run.report_gate:
        if not run.verify_reported:
            ordered = {name: results[name] for name in all_hosts if name in results}
            missing = {name: failure_reason(state, name) for name in all_hosts if name not in results}
            during = deploy_running(state) if getattr(state, "inventory", None) is not None else ""
            write(report_path, document(ordered, missing, during))
            print("\n--> Verify report (" + report_path + ")\n" + table(ordered, missing) + "\n")
            if getattr(state, "inventory", None) is not None:
                print("\n".join(view_lines(state.inventory)) + "\n")
            if during:
                print(f"--> A deploy holds the lock: {during}; these checks were taken while it runs\n")
            print("--> " + summary(ordered, missing, during) + "\n")
            run.verify_reported = True
    failures = [r for r in results.get(host.name, []) if not r.ok]
    if failures:
        note_red(state, host.name, "verify: " + ", ".join(r.check for r in failures))


@deploy("Verify the cluster", data_defaults=VERIFY_DEFAULTS)
def verify_node(node: Node, expected_nodes: int, all_hosts: list[str]):
    read_only(python.call(name="Check this node's endpoints and logs through its SSH connection",
                          function=_check_host, node=node, expected_nodes=expected_nodes,
                          all_hosts=all_hosts))
    read_only(python.call(name="Report the checks and the verdict",
                          function=_report, report_path=node.settings["verify_report_path"],
                          all_hosts=all_hosts))

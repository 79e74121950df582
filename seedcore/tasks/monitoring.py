"""Monitoring (optional): Prometheus from the distribution's packages on the
host in group `monitoring`, scraping every Ray node; restarted only when its
config, command line or package change, reloaded when only its rules change;
a changed target list (a worker added) is reread by Prometheus itself. Ray's
own Grafana dashboards are copied from the head to the control machine, and
into Grafana's provisioning directory when one is given."""

import json
import os
import shlex
import time
from io import StringIO
from pathlib import Path

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.files import Directory
from pyinfra.operations import files, python, systemd

from seedcore import prometheus
from seedcore.changes import after_change
from seedcore.commands import bounded
from seedcore.defaults import MONITORING_DEFAULTS
from seedcore.facts.host import ListeningPorts, port_holder_problem
from seedcore.families import family_of, layouts, package_reads
from seedcore.hostfacts import file_reads, project_containers, read_fact, service_reads
from seedcore.monitoring_checks import monitoring_checks
from seedcore.operations.ray import decide_head
from seedcore.outcome import note_red
from seedcore.pyinfra_seam import read_only
from seedcore.reach import through
from seedcore.report import table
from seedcore.run_context import run_of
from seedcore.tasks.verify import lost_hosts
from seedcore.tasks.web import door_results
from seedcore.topology import head_host, is_monitoring_host, monitoring_host, prometheus_url, settings_for

# Beside the dashboards copied to the control machine: the head container they came from.
DASHBOARDS_SOURCE = ".seedcore-head-container"
# Where Ray 2.20's head writes its Grafana dashboards, inside the head container.
RAY_DASHBOARDS_DIR = "/tmp/ray/session_latest/metrics/grafana/dashboards"
# Reading them inside the head gives up after this (the read is a few files).
DASHBOARDS_READ_TIMEOUT_S = 60


def port_problems(host, settings: dict) -> list[str]:
    """monitoring_port must be free or held by Prometheus itself."""
    port = settings["monitoring_port"]
    return [
        f"host {host.name}: {port_holder_problem(port, 'monitoring_port', holder, 'prometheus')}"
        for holder in read_fact(host, ListeningPorts).get(port, [])
        if holder["process"] != "prometheus"
    ]


PROMETHEUS_FILES = (prometheus.RULES_FILE, prometheus.CONFIG_FILE, prometheus.TARGETS_FILE)


def prometheus_reads() -> list:
    """The facts the Prometheus steps decide with (preflight bundles them)."""
    return [*package_reads(), [Directory, {"path": prometheus.SEEDCORE_DIR}],
            *[read for path in PROMETHEUS_FILES for read in file_reads(path)],
            *[read for layout in layouts() for read in (*file_reads(layout.prometheus_args_file),
                                                        *service_reads(layout.prometheus_service))]]


def _put(name: str, text: str, dest: str):
    return files.put(name=name, src=StringIO(text), dest=dest, mode="644", user="root", group="root")


@deploy("Install Prometheus", data_defaults=MONITORING_DEFAULTS)
def install_prometheus(inventory):
    """Restarted when its package, config or command line changed, reloaded
    when only its alert rules did (seedcore/changes.py: --dry on a converged
    host lists neither)."""
    settings = settings_for(host)
    family = family_of(host)
    layout = family.layout
    package = family.install_packages(name="Install prometheus from the distribution's packages",
                                      packages=list(layout.prometheus_packages), update=True,
                                      no_recommends=True)
    files.directory(name="Create Prometheus' seedcore directory", path=prometheus.SEEDCORE_DIR,
                    mode="755", user="root", group="root")
    rules = _put("Write the alert rules", prometheus.alert_rules(settings_for(head_host(inventory))),
                 prometheus.RULES_FILE)
    config = _put("Write prometheus.yml", prometheus.prometheus_config(settings), prometheus.CONFIG_FILE)
    args = _put("Write Prometheus' command line (listen address, retention)",
                prometheus.prometheus_args(settings), layout.prometheus_args_file)
    _put("Write the scrape targets (Prometheus rereads them without a restart)",
         prometheus.targets_file(inventory), prometheus.TARGETS_FILE)
    systemd.service(name="Enable and start Prometheus", service=layout.prometheus_service, running=True,
                    enabled=True)
    if changed := after_change(package, config, args):
        systemd.service(name="Restart Prometheus because its config, command line or package changed",
                        service=layout.prometheus_service, restarted=True, _if=changed)
    if changed := after_change(rules, unless=(package, config, args)):
        systemd.service(name="Reload Prometheus because only its alert rules changed",
                        service=layout.prometheus_service, reloaded=True, _if=changed)


def dashboards_command(container: str) -> str:
    """Prints {file name: JSON text} of the head's Grafana dashboards."""
    script = (
        "import glob, json, os; "
        f"print(json.dumps({{os.path.basename(p): open(p).read() for p in sorted(glob.glob("
        f"{os.path.join(RAY_DASHBOARDS_DIR, '*.json')!r}))}}))"
    )
    return bounded(f"docker exec {shlex.quote(container)} python -c {shlex.quote(script)}",
                   DASHBOARDS_READ_TIMEOUT_S, f"reading Ray's Grafana dashboards in {container}")


def container_id_command(container: str) -> str:
    """Prints the container's full ID."""
    return f"docker inspect -f '{{{{.Id}}}}' {shlex.quote(container)}"


def parse_dashboards(output: str) -> dict[str, str]:
    """{file name: JSON text}, only names of plain .json files."""
    found = json.loads(output or "{}")
    return {
        name: text for name, text in found.items()
        if name.endswith(".json") and "/" not in name and not name.startswith(".")
    }


def _fetch_dashboards(state, host, container: str, local_dir: str):
    ok, output = host.run_shell_command(dashboards_command(container), _sudo=True)
    if not ok:
        raise RuntimeError(f"host {host.name}: could not read Ray's Grafana dashboards in {container}: "
                                              + output.stderr)
    dashboards = parse_dashboards(output.stdout)
    if not dashboards:
        raise RuntimeError(
            f"host {host.name}: {container} has no Grafana dashboards under {RAY_DASHBOARDS_DIR}")
    os.makedirs(local_dir, exist_ok=True)
    for name, text in dashboards.items():
        with open(os.path.join(local_dir, name), "w") as handle:
            handle.write(text)
    # Which head container they came from: a later run whose head keeps running
    # as it is uses this copy instead of reading them again.
    ok, output = host.run_shell_command(container_id_command(container), _sudo=True)
    marker = Path(local_dir, DASHBOARDS_SOURCE)
    if ok and output.stdout.strip():
        marker.write_text(output.stdout.strip() + "\n")
    else:
        marker.unlink(missing_ok=True)
    run_of(state).grafana_dashboards = dashboards
    print(f"\n--> Ray's Grafana dashboards copied to {local_dir}/: {', '.join(sorted(dashboards))}\n")


def kept_dashboards(local_dir: str, container_id: str) -> dict[str, str]:
    """The dashboards copied from this very head container before ({} if none)."""
    try:
        if not container_id or Path(local_dir, DASHBOARDS_SOURCE).read_text().strip() != container_id:
            return {}
        return {path.name: path.read_text() for path in sorted(Path(local_dir).glob("*.json"))}
    except OSError:
        return {}


@deploy("Copy Ray's Grafana dashboards", data_defaults=MONITORING_DEFAULTS)
def fetch_dashboards():
    """Read from the head unless this control machine holds them from the same
    head container and the run leaves that container running."""
    settings = settings_for(host)
    name = settings["ray_head_container"]
    head = next((c for c in project_containers(host, settings) if c["name"] == name), None)
    kept = head is not None and decide_head(host.state)[host.name][1] and kept_dashboards(
        settings["monitoring_dashboards_path"], head["id"])
    if kept:
        run_of(host.state).grafana_dashboards = kept
        return
    python.call(name="Copy Ray's Grafana dashboards from the head to the control machine",
                function=_fetch_dashboards, container=settings["ray_head_container"],
                local_dir=settings["monitoring_dashboards_path"])


def _provision_dashboards(state, host, directory: str):
    dashboards = run_of(state).grafana_dashboards
    if not dashboards:
        raise RuntimeError(f"host {host.name}: no Ray dashboards were fetched from the head in this run")
    for name, text in sorted(dashboards.items()):
        if not host.put_file(StringIO(text), f"{directory}/{name}", _sudo=True):
            raise RuntimeError(f"host {host.name}: could not write {directory}/{name}")


@deploy("Provision Ray's Grafana dashboards", data_defaults=MONITORING_DEFAULTS)
def provision_dashboards():
    directory = settings_for(host)["monitoring_grafana_dashboards_dir"]
    files.directory(name="Create Grafana's dashboard directory", path=directory, mode="755")
    python.call(name="Put Ray's Grafana dashboards in Grafana's provisioning directory",
                function=_provision_dashboards, directory=directory)


def _verify(state, host, inventory):
    base = prometheus_url(inventory)
    reach = through(host)
    timeout_s = settings_for(host)["verify_timeout_s"]
    started = time.monotonic()
    results = monitoring_checks(host.name, base, prometheus.expected_targets(inventory),
                                prometheus.rule_names(), timeout_s,
                                target_hosts=prometheus.target_hosts(inventory),
                                lost=lambda: lost_hosts(state), reach=reach)
    # Prometheus' web door: 401 without the password, 200 with it (none with web_manage off).
    results += door_results(host, inventory, reach, "prometheus", started + timeout_s)
    print(f"\n--> Monitoring checks ({base}, {reach.where})\n" + table({host.name: results}, {}) + "\n")
    failures = [r for r in results if not r.ok]
    if failures:
        print(f"--> Monitoring: red on {host.name}: {', '.join(r.check for r in failures)}\n")
        note_red(state, host.name, "monitoring: " + ", ".join(r.check for r in failures))
    else:
        print(f"--> Monitoring: green: {len(results)} checks on {host.name}\n")


@deploy("Verify monitoring", data_defaults=MONITORING_DEFAULTS)
def verify_monitoring(inventory):
    read_only(python.call(
        name="Check through the monitoring host that Prometheus answers, scrapes and has its rules",
        function=_verify, inventory=inventory))


def watch_cluster(inventory) -> None:
    """The monitoring steps of one host, after the Ray nodes converged."""
    head = head_host(inventory)
    # Ray's dashboards are for the monitoring host's Grafana: without one, none is read.
    if head is not None and host.name == head.name and monitoring_host(inventory) is not None:
        fetch_dashboards()
    if is_monitoring_host(host):
        install_prometheus(inventory)
        if settings_for(host)["monitoring_grafana_dashboards_dir"]:
            provision_dashboards()
        verify_monitoring(inventory)


"""Preflight: the inventory and every host checked before anything changes.

Runs once, while pyinfra prepares the first host, across all reachable
hosts, so one run reports every problem and no host is touched if any.
"""

import time

from gevent.pool import Pool
from pyinfra import logger
from pyinfra.context import ctx_host
from pyinfra.facts.server import LinuxDistribution

from seedcore.facts.docker import UNMANAGED, ComposeVersion, DockerEngine, ImageId
from seedcore.facts.gpu import NvidiaGpus
from seedcore.facts.host import DiskAvailableMb, EpochSeconds, ListeningPorts, SudoAccess, port_holder_problem
from seedcore.families import family_problems, install_reads, release_reads, unsupported_line
from seedcore.gpu import gpu_count_problem
from seedcore.hostfacts import fact_failures, operation_reads, prefetch, project_containers, read_fact
from seedcore.lock import is_dry
from seedcore.operations.ray import decide_head, drift
from seedcore.plan import gpu_layout
from seedcore.ports import port_keys
from seedcore.pyinfra_seam import parallel_limit
from seedcore.render import ENV_FILE
from seedcore.run_context import run_of
from seedcore.sudo import sudo_args
from seedcore.tasks.compose import diff_reads, render_reads
from seedcore.tasks.docker import docker_reads
from seedcore.tasks.firewall import firewall_problems, firewall_reads
from seedcore.tasks.gcs_store import store_reads
from seedcore.tasks.monitoring import port_problems as monitoring_port_problems
from seedcore.tasks.monitoring import prometheus_reads
from seedcore.tasks.serve import marker_path
from seedcore.tasks.web import port_problems as door_port_problems
from seedcore.tasks.web import web_reads
from seedcore.timings import add_preflight_time
from seedcore.topology import gcs_store_tls, is_gpu_host, is_monitoring_host, node_for, role_of, settings_for
from seedcore.validate import InventoryError, check_inventory, inventory_name
from seedcore.web import doors

DOCKER_ROOT = "/var/lib/docker"

# Beyond this, logs and Ray's own timestamps no longer line up across hosts.
CLOCK_SKEW_LIMIT_S = 30


def clock_skew_problem(clocks: dict[str, int]) -> str | None:
    """One line when the hosts' clocks differ by more than CLOCK_SKEW_LIMIT_S."""
    if len(clocks) < 2:
        return None
    early = min(clocks, key=clocks.get)
    late = max(clocks, key=clocks.get)
    skew = clocks[late] - clocks[early]
    if skew <= CLOCK_SKEW_LIMIT_S:
        return None
    return (
        f"clocks differ by {skew}s between {early} and {late} (more than {CLOCK_SKEW_LIMIT_S}s): "
        "enable time sync (systemd-timesyncd or chrony) on every host"
    )


def sudo_problem(host_name: str, user: str, access: str, password_given: bool) -> str | None:
    """A line when the deploy cannot become root on the host without a prompt."""
    if access in ("root", "passwordless") or (access == "password" and password_given):
        return None
    if access == "password":
        return (f"host {host_name}: sudo asks {user} for a password: allow {user} passwordless sudo "
                f"(a sudoers line `{user} ALL=(ALL) NOPASSWD: ALL`), or give the password: "
                "`pyinfra --same-sudo-password ...` (asked once) or the `_sudo_password` data key")
    if access == "no-sudo":
        return (f"host {host_name}: {user} is not root and the host has no sudo: "
                "install sudo or connect as root")
    return f"host {host_name}: could not tell how {user} becomes root (`sudo -n true` gave nothing)"


def sudo_problems(state) -> list[str]:
    """Every host that uses sudo, asked at once how its user becomes root; then, for a
    host that needs a password and was given one, whether sudo takes it."""
    hosts = [host for host in state.inventory.get_active_hosts() if host.data.get("_sudo")]
    given = bool(state.config.SUDO_PASSWORD)
    lines: dict[str, str] = {}

    def ask(host):
        with ctx_host.use(host):
            access = host.get_fact(SudoAccess, _sudo=False)
            user = host.data.get("ssh_user") or "the SSH user"
            password_given = given or bool(host.data.get("_sudo_password"))
            line = sudo_problem(host.name, user, access, password_given)
            if line is None and access == "password":
                ok, output = host.run_shell_command("true", **sudo_args(host))
                if not ok:
                    line = (f"host {host.name}: sudo refuses the password given for {user}: "
                            f"{output.stderr.strip() or 'no answer'}")
            if line:
                lines[host.name] = line

    pool = Pool(parallel_limit(state, len(hosts) or 1))
    for host in hosts:
        pool.spawn(ask, host)
    pool.join(raise_error=True)
    return [lines[host.name] for host in hosts if host.name in lines]


def disk_problems(free: int | None, path: str, need: int, key: str, what: str) -> list[str]:
    """A line when the filesystem of `path` has less than `need` MiB free, or its free
    space could not be read (a check that cannot be made is a problem, not a pass)."""
    if free is None:
        return [f"the free space under {path} could not be read (`df -Pk {path}` gave nothing): "
                "check the host's df and the path's parent directories"]
    if free < need:
        return [f"only {free} MiB free under {path}, {need} MiB needed {what}: "
                f"free some space or lower {key}"]
    return []


def unread_hosts(state) -> list[str]:
    """A line for each host whose reads failed it (a fact's command failed, in the
    bundle or read on its own): the run is refused, as for any other problem of a
    host, instead of going on without it. The fact and its stderr are named."""
    failures = fact_failures(state)
    at_start = run_of(state).failed_at_start
    lost = sorted(host.name for host in state.failed_hosts if host.name not in at_start)
    unnamed = ["a fact could not be read (pyinfra's error line above names it and what it said)"]
    return [f"host {name}: {line}" for name in lost for line in failures.get(name) or unnamed]


def host_clocks(hosts) -> tuple[dict[str, int], list[str]]:
    """Each host's clock as read in the one bundled read of every host at once (the
    epochs were taken together, so they compare with each other, not with this
    machine's clock at some later moment); and a line for each host whose clock
    could not be read, which is a problem, not a host left out of the comparison."""
    clocks, unread = {}, []
    for host in hosts:
        epoch = read_fact(host, EpochSeconds)
        if epoch is None:
            unread.append(f"host {host.name}: its clock could not be read (`date +%s` gave nothing): "
                          "check the host's shell and coreutils")
        else:
            clocks[host.name] = epoch
    return clocks, unread


def foreign_port_holders(ports: dict, wanted: dict[str, int], our_ids: set[str]) -> list[str]:
    """Lines naming each wanted port held by a process outside our containers."""
    problems = []
    for key, port in wanted.items():
        for holder in ports.get(port, []):
            if holder["container"] and holder["container"] in our_ids:
                continue
            problems.append(port_holder_problem(port, key, holder, "a seedcore container"))
    return problems


def store_problems(host, settings: dict) -> list[str]:
    """The GCS store host runs no Ray node: only its Redis port must be free or Redis's own."""
    port = settings["ray_gcs_store_port"]
    return [
        port_holder_problem(port, "ray_gcs_store_port", holder, "redis-server")
        for holder in read_fact(host, ListeningPorts).get(port, [])
        if holder["process"] != "redis-server"
    ]


def host_problems(host, settings: dict, allow_docker_down: bool) -> list[str]:
    """Every problem of one host, each line naming it."""
    role = role_of(host)
    # ufw or firewalld would fight the deploy's own firewall, on every kind of host; the web
    # door's ports must be free or nginx's, wherever a door opens.
    firewalls = firewall_problems(host) + door_port_problems(host, settings)
    if role in ("store", "monitoring"):
        # The host's family installs its packages too (its repositories only a Ray node's).
        firewalls += [f"host {host.name}: {line}" for line in family_problems(host, settings, node=False)]
    if role == "store":
        return firewalls + [f"host {host.name}: {problem}" for problem in store_problems(host, settings)]
    # Monitoring: Prometheus' port, and nothing of a Ray node on a host that is not one.
    monitoring = monitoring_port_problems(host, settings) if is_monitoring_host(host) else []
    if role == "monitoring":
        return firewalls + monitoring
    # This one names the host itself.
    named = []
    if is_gpu_host(host):
        named.append(gpu_count_problem(host.name, read_fact(host, NvidiaGpus), settings["gpu_count"]))
    engine = read_fact(host, DockerEngine)
    problems = []
    problems += family_problems(host, settings)
    if engine["installed"] and not engine["running"] and not allow_docker_down:
        problems.append(
            "Docker is installed but not answering: check `systemctl status docker` "
            "(deploy/rebuild.py restarts it)"
        )
    our_ids = set()
    if engine["running"]:
        containers = project_containers(host, settings)
        our_ids = {c["id"] for c in containers}
    ports = read_fact(host, ListeningPorts)
    problems += foreign_port_holders(ports, {k: settings[k] for k in port_keys(role)}, our_ids)

    image_present = engine["running"] and read_fact(host, ImageId, image=settings["ray_image"])
    if not image_present:
        problems += disk_problems(read_fact(host, DiskAvailableMb, path=DOCKER_ROOT), DOCKER_ROOT,
                                  settings["docker_min_free_mb"], "docker_min_free_mb", "for the images")
    project = settings["ray_project_dir"]
    problems += disk_problems(read_fact(host, DiskAvailableMb, path=project), project,
                              settings["ray_archive_max_mb"], "ray_archive_max_mb",
                              "for the archives of removed containers")
    return (firewalls + [line for line in named if line]
            + [f"host {host.name}: {problem}" for problem in problems] + monitoring)


def gcs_address_of(container: dict) -> str:
    """The head address a worker container was started against, or ""."""
    return next(
        (arg.split("=", 1)[1] for arg in container["command"] if arg.startswith("--address=")), ""
    )


def workers_on_another_head(state) -> list[str]:
    """Workers whose running container joined a head other than the inventory's."""
    lines = []
    for host in state.inventory.get_active_hosts():
        if role_of(host) != "worker" or not read_fact(host, DockerEngine)["running"]:
            continue
        node = node_for(host, state.inventory)
        for container in project_containers(host, node.settings):
            joined = gcs_address_of(container)
            if container["name"] == node.container and joined and joined != node.gcs_address:
                lines.append(
                    f"host {host.name}: its Ray worker points at {joined}, not at the head "
                    f"{node.gcs_address}: it will be re-pointed and restarted"
                )
    return lines


def hand_made_containers(state) -> list[str]:
    """Containers found by a node name that the deploy did not make (a
    `docker run --name seedcore-ray-head` by hand): each is drift."""
    lines = []
    for host in state.inventory.get_active_hosts():
        if not read_fact(host, DockerEngine)["running"]:
            continue
        for container in project_containers(host, settings_for(host)):
            if not container["managed"]:
                lines.append(f"host {host.name}: container {container['name']} {UNMANAGED}; "
                             "it will be archived and replaced")
    return lines


def drifted_containers(state) -> list[str]:
    """Node containers the deploy made that now run something the render does not
    give (an added variable or mount, another restart policy...): each is named,
    never its values, and recreated as rendered."""
    lines = []
    for host in state.inventory.get_active_hosts():
        if role_of(host) not in ("head", "worker") or not read_fact(host, DockerEngine)["running"]:
            continue
        node = node_for(host, state.inventory, *gpu_layout(host))
        for container in project_containers(host, node.settings):
            if container["name"] != node.container or not container["managed"]:
                continue
            found = drift(container, node)
            if found:
                lines.append(f"host {host.name}: container {container['name']} {'; '.join(found)}: "
                             "it will be recreated as rendered")
    return lines


def preflight_reads(host) -> list:
    """Every fact preflight and the host's operations read on `host`, for one
    bundled command: a host already as asked then needs no other read."""
    settings = settings_for(host)
    role = role_of(host)
    reads = [[ListeningPorts, {}], [EpochSeconds, {}], [LinuxDistribution, {}], *firewall_reads(settings)]
    if doors(host, settings):
        reads += web_reads()
    if role == "store":
        return reads + store_reads(settings, gcs_store_tls(host.inventory))
    if is_monitoring_host(host):
        reads += prometheus_reads()
    if role == "monitoring":
        return reads
    node = node_for(host, host.inventory)
    files = (marker_path(settings),) if role == "head" else ()
    project = settings["ray_project_dir"]
    root_only = (f"{project}/{ENV_FILE}", f"{project}/{node.compose_file}")
    gpu = is_gpu_host(host)
    return reads + [
        [DockerEngine, {}], [DiskAvailableMb, {"path": DOCKER_ROOT}],
        [DiskAvailableMb, {"path": settings["ray_project_dir"]}],
        # A GPU host's Compose version decides how its containers ask for GPUs.
        *([[NvidiaGpus, {}], [ComposeVersion, {}]] if gpu else []),
        *install_reads(settings, gpu),
        *docker_reads(),
        *render_reads(node),
        *operation_reads(settings, files, root_only),
        # --diff shows the root-only env and compose files too, read masked on the host.
        *(diff_reads(node) if host.state.config.DIFF else []),
    ]


def repository_reads(host) -> list:
    """The Release files preflight fetches on a Ray node's host (none on the
    store or monitoring-only hosts, which install no Docker of the deploy's)."""
    if role_of(host) in ("store", "monitoring"):
        return []
    return release_reads(host, settings_for(host))


def run_preflight(state, allow_docker_down: bool = False) -> None:
    """Raise InventoryError listing every problem; return when all is well.

    Once per run, kept on the run's own context (a second run in the same process
    checks again). pyinfra loads the deploy file for all hosts at once: one runs
    preflight, the others wait for its outcome and raise the same refusal, so no
    host goes on to take the lock or change anything."""
    run = run_of(state)
    with run.preflight_gate:
        if run.preflight_done:
            if run.preflight_refusal is not None:
                # Refused for one host, refused for all: no host goes on to take the lock.
                raise run.preflight_refusal
            return
        started = time.monotonic()
        try:
            _check(state, allow_docker_down)
        except Exception as refusal:
            run.preflight_refusal = refusal
            raise
        finally:
            run.preflight_done = True
            add_preflight_time(state, time.monotonic() - started)


def _check(state, allow_docker_down: bool) -> None:
    # Hosts already lost when the run starts do not stop the others; any host
    # failing after this point does (see operations.ray.failed_during_run).
    run_of(state).failed_at_start = {h.name for h in state.failed_hosts}
    problems = check_inventory(state.inventory)
    if not problems:
        # Before any read through sudo: a sudo that asks for a password would prompt.
        problems += [f"{inventory_name()}: {line}" for line in sudo_problems(state)]
    if not problems:
        # One command per host, every host at once; then, every host at once,
        # the Release files whose URLs the first answers decide.
        prefetch(state, preflight_reads)
        prefetch(state, repository_reads, add=True)
        clocks, unread = host_clocks(state.inventory.get_active_hosts())
        problems += [f"{inventory_name()}: {line}" for line in unread]
        dry = is_dry()
        for host in state.inventory.get_active_hosts():
            try:
                found = host_problems(host, settings_for(host), allow_docker_down)
            except Exception:
                # A read that failed the host left its fact's default, which the checks
                # may not take: the failed read is the host's problem (unread_hosts).
                if host not in state.failed_hosts:
                    raise
                found = []
            problems += [f"{inventory_name()}: {line}" for line in found]
            # A family not supported yet plans under --dry and stops any other run.
            unsupported = unsupported_line(host)
            if unsupported and dry:
                logger.warning(f"{unsupported} (--dry: planned only)")
            elif unsupported:
                problems.append(f"{inventory_name()}: {unsupported}")
        skew = clock_skew_problem(clocks)
        if skew:
            problems.append(f"{inventory_name()}: {skew}")
        problems += [f"{inventory_name()}: {line}" for line in unread_hosts(state)]
    if not problems:
        for line in workers_on_another_head(state) + hand_made_containers(state) + drifted_containers(state):
            logger.warning(line)
        decide_head(state)
    if problems:
        count = len(problems)
        raise InventoryError(
            f"{count} problem{'s' if count > 1 else ''} found before any change; "
            "nothing was changed on any host:\n  " + "\n  ".join(problems)
        )

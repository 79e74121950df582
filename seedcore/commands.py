"""Pure builders for every shell command the deploys run on a host."""

import os
import shlex

COMPOSE_V2 = "docker compose"
COMPOSE_V1 = "docker-compose"
# The head's command with a GCS store: Ray 2.20 takes the Redis password only as
# `ray start --redis-password`, so a shell adds it from the container's environment
# (the compose file's root-only `environment:` mapping), never from a file or argv of ours.
GCS_STORE_PASSWORD_VAR = "SEEDCORE_GCS_STORE_PASSWORD"
GCS_STORE_PASSWORD_SHIM = f'exec "$@" --redis-password="${GCS_STORE_PASSWORD_VAR}"'

# What coreutils' `timeout` exits with when it stopped a command (124), or had to kill it (137).
TIMED_OUT = (124, 137)
# How long a command that ignores timeout's TERM is given before KILL.
KILL_AFTER_S = 10


def bounded(command: str, timeout_s: int, what: str) -> str:
    """`command` (a shell line) stopped after `timeout_s` seconds (KILLed
    KILL_AFTER_S later if it ignores that); when stopped, it fails with one line
    on stderr that names `what` and the bound. Its exit status is the command's."""
    said = shlex.quote(f"{what}: no answer within {int(timeout_s)} s, stopped")
    return (f"( timeout -k {KILL_AFTER_S} {int(timeout_s)} sh -c {shlex.quote(command)}; rc=$?; "
            f"if [ $rc -eq {TIMED_OUT[0]} ] || [ $rc -eq {TIMED_OUT[1]} ]; then echo {said} >&2; fi; "
            "exit $rc )")


def ray_start_args(node) -> list[str]:
    """`ray start` for one node, in the foreground so the container lives with it."""
    args = _ray_start(node)
    if node.role == "head" and node.gcs_store:
        return ["sh", "-c", GCS_STORE_PASSWORD_SHIM, "ray-start", *args]
    return args


def _ray_start(node) -> list[str]:
    s = node.settings
    args = ["ray", "start", "--block", f"--node-ip-address={node.address}"]
    if node.role == "head":
        args += [
            "--head",
            f"--port={s['ray_gcs_port']}",
            f"--dashboard-host={s['ray_dashboard_host']}",
            f"--dashboard-port={s['ray_dashboard_port']}",
            f"--dashboard-grpc-port={s['ray_dashboard_grpc_port']}",
            f"--ray-client-server-port={s['ray_client_server_port']}",
        ]
    else:
        args.append(f"--address={node.gcs_address}")
    args += [
        f"--dashboard-agent-listen-port={s['ray_dashboard_agent_port']}",
        f"--metrics-export-port={s['ray_metrics_export_port']}",
        # Every port pinned: the host firewall names each (seedcore/ports.py).
        f"--node-manager-port={s['ray_node_manager_port']}",
        f"--object-manager-port={s['ray_object_manager_port']}",
        f"--min-worker-port={s['ray_min_worker_port']}",
        f"--max-worker-port={s['ray_max_worker_port']}",
        f"--dashboard-agent-grpc-port={s['ray_dashboard_agent_grpc_port']}",
        f"--runtime-env-agent-port={s['ray_runtime_env_agent_port']}",
        f"--object-store-memory={s['ray_object_store_memory_mb'] * 1024 * 1024}",
        "--disable-usage-stats",
    ]
    if s["ray_num_cpus"]:
        args.append(f"--num-cpus={s['ray_num_cpus']}")
    if node.gpus:
        args.append(f"--num-gpus={node.gpus}")
    args += [str(arg) for arg in s["ray_start_extra_args"]]
    return args


def compose(cli: str, project_dir: str, compose_file: str, project: str, *action: str,
            profile: str | None = None) -> str:
    """A compose call pinned to one file and project, run from the project directory."""
    parts = [*cli.split(), "-f", compose_file, "-p", project]
    if profile:
        parts += ["--profile", profile]
    parts += list(action)
    return f"cd {shlex.quote(project_dir)} && {shlex.join(parts)}"


def compose_up(cli, node) -> str:
    """`up -d`: the node's healthy wait (wait_healthy) follows, on Compose v1 and v2 alike."""
    return compose(
        cli, node.settings["ray_project_dir"], node.compose_file,
        node.settings["ray_compose_project"], "up", "-d", "--remove-orphans",
        profile="ray" if node.role == "head" else None,
    )


def compose_down(cli, node) -> str:
    # No -v: named volumes are never removed.
    return compose(
        cli, node.settings["ray_project_dir"], node.compose_file,
        node.settings["ray_compose_project"], "down", "--remove-orphans",
        profile="ray" if node.role == "head" else None,
    )


def remove_labelled_containers(label: str, value: str) -> str:
    """Force-remove every container carrying label=value, and nothing else."""
    selector = shlex.quote(f"label={label}={value}")
    return f"docker ps -aq --filter {selector} | xargs -r docker rm -f"


def remove_containers(ids: list[str]) -> str:
    """Force-remove these containers (IDs or names)."""
    return f"docker rm -f {shlex.join(ids)}"


def pull(image: str, timeout_s: int = 1800, tries: int = 3, pause_s: int = 5) -> str:
    """`docker pull`, each try bounded by `timeout_s`, tried up to `tries` times
    (a registry that drops a connection mid-pull gets another chance, `pause_s`,
    2 x `pause_s`... apart)."""
    what = f"docker pull {image}"
    once = bounded(f"docker pull {shlex.quote(image)}", timeout_s, what)
    return (f"n=1; until {once}; do if [ $n -ge {int(tries)} ]; then "
            f"echo {shlex.quote(f'{what}: failed {int(tries)} time(s), giving up')} >&2; exit 1; fi; "
            f"echo {shlex.quote(f'{what}: failed, trying again')} >&2; "
            f"sleep $((n * {int(pause_s)})); n=$((n + 1)); done")


# What `docker inspect` tells the wait: the health, the container's state, its restart policy.
HEALTH_FORMAT = "{{.State.Health.Status}} {{.State.Status}} {{.HostConfig.RestartPolicy.Name}}"


# How far back wait_healthy looks for Ray's fatal lines, and what marks them.
FATAL_LOG_LINES = 1000
RAY_FATAL = "Check failed"


def wait_healthy(container: str, timeout_s: int, probe_url: str = "") -> str:
    """Wait, up to a deadline, for the container to be healthy: Docker says
    so, or, while Docker has not checked it yet ("starting": its checks run
    every 5 s), the URL its health check probes answers (the node runs on the
    host's network; the same test, asked every second, with the host's curl).

    Stops at once when the container can no longer turn healthy: it is
    missing, dead, or exited with no restart policy (Docker will not start it
    again). Exits non-zero naming the container and the last status seen,
    with the tail of its logs and Ray's last fatal lines.
    """
    name = shlex.quote(container)
    probe = (f'[ "$status" = starting ] && curl -fsS -o /dev/null -m 5 {shlex.quote(probe_url)} '
             f"2>/dev/null && exit 0; ") if probe_url else ""
    # Ray's fatal lines (a failed RAY_CHECK, e.g. no TLS to the GCS store) come before
    # a backtrace longer than the tail: named apart, from further back.
    logs = (f"docker logs --tail 30 {name} >&2 2>&1 || true; "
            f"docker logs --tail {FATAL_LOG_LINES} {name} 2>&1 | grep -F {shlex.quote(RAY_FATAL)} "
            "| tail -n 3 | sed 's/^/Ray fatal: /' >&2; exit 1")
    return (
        f"deadline=$(( $(date +%s) + {int(timeout_s)} )); "
        f"while :; do set -- $(docker inspect -f {shlex.quote(HEALTH_FORMAT)} {name} 2>/dev/null "
        f"|| echo missing); status=${{1:-missing}}; state=${{2:-}}; policy=${{3:-}}; "
        f'[ "$status" = healthy ] && exit 0; '
        f"{probe}"
        f'case "$status/$state/$policy" in missing/*|*/dead/*|*/exited/no|*/exited/) '
        f'echo {name}" cannot turn healthy: it is ${{state:-missing}} and Docker will not start it '
        f'again (last status: $status)" >&2; {logs};; esac; '
        f'if [ "$(date +%s)" -ge "$deadline" ]; then '
        f'echo {name}" not healthy after {int(timeout_s)}s (last status: $status)" >&2; '
        f"{logs}; fi; "
        f"sleep 1; done"
    )


def ports_free(ports: list[int]) -> str:
    """Fail, naming the process, if any of the ports is still listened on."""
    checks = " ".join(str(int(p)) for p in sorted(set(ports)))
    return (
        f"busy=0; for port in {checks}; do "
        f'holder=$(ss -Hltnp "sport = :$port" 2>/dev/null | head -n1); '
        f'if [ -n "$holder" ]; then echo "port $port is still held: $holder" >&2; busy=1; fi; '
        f"done; exit $busy"
    )


def serve_deploy(container: str, config_path: str, marker_path: str, marker: str,
                 timeout_s: int = 300) -> str:
    """`serve deploy` inside the head (bounded by `timeout_s`), then record what was deployed."""
    deploy = bounded(f"docker exec {shlex.quote(container)} serve deploy {shlex.quote(config_path)}",
                     timeout_s, f"serve deploy in {container}")
    return f"{deploy} && echo {shlex.quote(marker)} > {shlex.quote(marker_path)}"


def serve_deploy_stored(container: str, config_path: str, key: str, marker: str,
                        timeout_s: int = 300) -> str:
    """`serve deploy` inside the head, then record what was deployed in Ray's
    internal key-value store (kept in the GCS store with head fault tolerance);
    each step bounded by `timeout_s` (a head that waits for its GCS store would
    otherwise hold `ray.init` for as long as it waits)."""
    record = (
        "import sys, ray; from ray.experimental import internal_kv as kv; "
        "ray.init(address='auto', logging_level='ERROR'); "
        "kv._internal_kv_put(sys.argv[1], sys.argv[2], overwrite=True)"
    )
    name = shlex.quote(container)
    deploy = bounded(f"docker exec {name} serve deploy {shlex.quote(config_path)}", timeout_s,
                     f"serve deploy in {container}")
    record_line = (f"docker exec {name} python -c {shlex.quote(record)} "
                   f"{shlex.quote(key)} {shlex.quote(marker)}")
    kept = bounded(record_line, timeout_s, f"recording the Serve config in {container}'s store")
    return f"{deploy} && {kept}"


def refuse(message: str) -> str:
    """A command that fails with `message`: how an operation reports a refusal."""
    return f"echo {shlex.quote(message)} >&2; exit 1"


# Inside a Ray container: the logs of its current session. Not the rest of /tmp/ray,
# which holds the objects Ray spilled to disk (as large as the object store) and
# runtime environments.
RAY_SESSION_LOGS = "/tmp/ray/session_latest/logs"


def archive_containers(containers: list[str], archive_dir: str, timeout_s: int = 600) -> str:
    """Copy each container's logs, inspect output and Ray session logs into
    `archive_dir`, readable by root only; each copy bounded by `timeout_s`.
    Fails when a copy failed, naming it."""
    target = shlex.quote(archive_dir)
    parts = [f"mkdir -p {target}", f"chmod 0700 {target}"]
    for container in containers:
        name = shlex.quote(container)
        base = f"{archive_dir}/{container}"
        copy_line = (f"docker cp -L {shlex.quote(f'{container}:{RAY_SESSION_LOGS}')} "
                     f"{shlex.quote(base + '-ray-logs')}")
        copy_tmp = bounded(copy_line, timeout_s, f"copying the Ray session logs out of {container}")
        parts += [
            bounded(f"docker logs --timestamps {name} > {shlex.quote(base + '.log')} 2>&1", timeout_s,
                    f"copying the logs of {container}"),
            f"docker inspect {name} > {shlex.quote(base + '.inspect.json')}",
            f"({copy_tmp} || echo {shlex.quote(f'no Ray session logs copied from {container}')})",
        ]
    parts.append(f"echo {shlex.quote(f'archived {len(containers)} container(s) to {archive_dir}')}")
    return " && ".join(parts)


def prune_archives(root: str, keep: int, max_mb: int) -> str:
    """Keep the `keep` newest run folders under `root` (named by their UTC time, so
    they sort by age), then drop the oldest while they hold more than `max_mb` MiB
    together; the newest is always kept. Prints what it removed."""
    folders = "ls -1d -- */ 2>/dev/null | sort"
    said = "printf 'removed %s/%s (%s)\\n' " + shlex.quote(root) + ' "${old%/}"'
    return (
        f"cd {shlex.quote(root)} 2>/dev/null || exit 0; n=$({folders} | wc -l); "
        f"{folders} | head -n $((n > {int(keep)} ? n - {int(keep)} : 0)) | "
        f"while IFS= read -r old; do rm -rf -- \"$old\" && {said} 'beyond the archives kept'; done; "
        f"while [ $({folders} | wc -l) -gt 1 ] && [ $(du -sm . | cut -f1) -gt {int(max_mb)} ]; do "
        f"old=$({folders} | head -n 1); rm -rf -- \"$old\" && {said} 'archives over {int(max_mb)} MiB'; done"
    )


def drain_worker(container: str, gcs_address: str, deadline_s: int, timeout_s: int = 300) -> str:
    """Ask Ray to drain this worker's node before it restarts (`ray drain-node`,
    which Ray 2.20 marks as not public); a refusal is reported, not fatal."""
    find_node = (
        "import ray; ray.init(address='auto', logging_level='ERROR'); "
        "print(ray.get_runtime_context().get_node_id())"
    )
    inner = (
        f'node_id=$(python -c "{find_node}" 2>/dev/null | tail -n 1) && '
        f"ray drain-node --address {shlex.quote(gcs_address)} --node-id \"$node_id\" "
        "--reason DRAIN_NODE_REASON_PREEMPTION --reason-message 'seedcore rollout' "
        f"--deadline-remaining-seconds {int(deadline_s)}"
    )
    drain = bounded(f"docker exec {shlex.quote(container)} sh -c {shlex.quote(inner)}", timeout_s,
                    f"draining {container}")
    return f"{drain} || echo {shlex.quote(f'Ray did not accept draining {container}; restarting it anyway')}"


def serve_route_check(container: str, script: str, port: int, route: str, timeout_s: int) -> str:
    """Wait, inside the head, until Serve answers `route` through its proxy."""
    return (
        f"docker exec {shlex.quote(container)} python {shlex.quote(script)} "
        f"--port {int(port)} --route {shlex.quote(route)} --timeout {int(timeout_s)}"
    )


def restart_docker() -> str:
    return "systemctl restart docker"


def registry_login(registry: str, user: str, record: str) -> str:
    """`docker login`, then `record` (root only) holds the login's digest: both
    arrive base64-encoded on stdin, the digest's line first, then the password,
    so neither reaches a command line; the password reaches no file of ours."""
    directory = shlex.quote(os.path.dirname(record) or "/")
    return (
        "base64 -d | { IFS= read -r digest; "
        f"docker login --username {shlex.quote(user)} --password-stdin {shlex.quote(registry)} && "
        f"mkdir -p {directory} && chmod 0700 {directory} && "
        f"( umask 077; printf '%s\\n' \"$digest\" > {shlex.quote(record)} ); }}"
    )


def file_from_stdin(dest: str, user: str, group: str, mode: str) -> str:
    """Install the text arriving base64-encoded on stdin as `dest`, with this
    owner and mode (its directory made first when missing), in one command.

    The new file is created beside `dest` under umask 077 (so never readable
    by others before its mode is set), given its owner and mode, then renamed
    over `dest` in one step (a reader never sees half a file). On any failure
    the half-made file is removed and `dest` is left as it was. The text
    itself is never on a command line (``ps``) nor in pyinfra's output.
    """
    new = shlex.quote(f"{dest}.seedcore-new")
    owner = shlex.quote(f"{user}:{group}")
    parent = shlex.quote(os.path.dirname(dest) or "/")
    return (
        f"mkdir -p {parent} && umask 077 && rm -f {new} && base64 -d > {new} "
        f"&& chown {owner} {new} && chmod {shlex.quote(mode)} {new} && mv -f {new} {shlex.quote(dest)} "
        f"|| {{ status=$?; rm -f {new}; exit $status; }}"
    )


def root_only_from_stdin(dest: str, group: str = "root") -> str:
    """``file_from_stdin`` for a file owned by root and mode 0600 at every
    moment. With another `group` (a service's own, e.g. redis) the file is
    0640: that group may read it, no one else."""
    return file_from_stdin(dest, "root", group, "0600" if group == "root" else "0640")


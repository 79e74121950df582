"""docs/benchmarks.md from one run's results: every sentence that compares, judges a
target or names a cost is written from the figures, never kept as fixed text."""

import json

# The targets: (key, comparison, limit, unit).
TARGETS = [
    ("fresh_converge_3_hosts_vs_floor", "<=", 1.3, "x"),
    ("noop_rerun_3_hosts_s", "<=", 2.5, " s"),
    ("noop_rerun_containers_restarted", "==", 0, ""),
    ("noop_vs_pyinfra_floor", "<=", 4.5, "x"),
    ("rebuild_one_worker_vs_floor", "<=", 1.3, "x"),
    ("scale_20_vs_1", "<=", 1.5, "x"),
    ("verify_dead_worker_s", "<", 15, " s"),
    ("verify_ssh_vs_direct", "<=", 1.5, "x"),
    ("security.outsider_reached", "==", [], ""),
]
# Stated, not measured: the bandwidth one registry serves image bytes at.
REGISTRY_BANDWIDTH_GBIT_S = 1.0
PAPER_SIZES = (100, 1000)
NOT_RECORDED = "not recorded"
FAILED = "failed (see `failures` in docs/benchmarks.json)"


def number(value, unit: str = "") -> str:
    if value is None:
        return FAILED
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "none"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return f"{value}{unit}"
    digits = 2 if unit == "x" or abs(value) < 10 else 1 if abs(value) < 100 else 0
    return f"{value:.{digits}f}{unit}"


def lookup(r: dict, key: str):
    """r's figure under a dotted key ("security.tls_nodes"); None when absent."""
    for part in key.split("."):
        if not isinstance(r, dict):
            return None
        r = r.get(part)
    return r


def present(r: dict, key: str) -> bool:
    head, _, rest = key.partition(".")
    return head in r and (not rest or present(r[head] or {}, rest))


def verdict(value, comparison: str, limit) -> str:
    """'met', 'missed by D (P%)', 'not met: VALUE' (a list), or 'not measured'."""
    if isinstance(limit, list):
        if not isinstance(value, list):
            return "not measured"
        return "met" if value == limit else f"not met: {', '.join(map(str, value))}"
    if not isinstance(value, int | float):
        return "not measured"
    met = {"<=": value <= limit, "<": value < limit, "==": value == limit}[comparison]
    if met:
        return "met"
    over = value - limit
    share = f" ({over / limit * 100:.0f}% over)" if limit else ""
    return f"missed by {number(over)}{share}"


def targets_table(r: dict) -> str:
    rows = ["| Key | Measured | Target | Verdict |", "|---|---|---|---|"]
    for key, comparison, limit, unit in TARGETS:
        value = lookup(r, key)
        shown = number(value, unit) if present(r, key) else "not measured"
        judged = verdict(value, comparison, limit)
        rows.append(f"| `{key}` | {shown} | {comparison} {limit}{unit} | {judged} |")
    return "\n".join(rows)


def by_size(figures: dict | None) -> list[tuple[str, object]]:
    """(size, figure) pairs of a {"N": figure} mapping, smallest size first."""
    return sorted((figures or {}).items(), key=lambda item: int(item[0]))


# Figures by the key that holds them: a row whose key this run did not measure
# (a scenario left out with --only) is left out, not shown as failed.
ROW_KEYS = {
    "Floor, 3 bare hosts": "floor_3_hosts",
    "Fresh converge, 3": "fresh_converge_3_hosts_s",
    "Fresh converge against its floor, each pair": "fresh_converge_pairs",
    "No-op re-run": "noop_rerun_3_hosts_s",
    "`pyinfra inventories/lab.py exec": "pyinfra_exec_true_3_hosts_s",
    "Containers restarted": "noop_rerun_containers_restarted",
    "Verify only": "verify_only_3_hosts_s",
    "Verify only, 3 hosts (median), every check straight": "verify_direct_baseline",
    "Verify with one worker": "verify_dead_worker_s",
    "Worker floor": "rebuild_one_worker_floor",
    "Rebuild against its floor, each pair": "rebuild_one_worker_pairs",
    "Rebuild of one lost worker": "rebuild_one_worker_s",
    "Memory of one bare lab host": "bare_host_memory_mib",
    "Ray image size": "ray_image_bytes",
    "Serve /health req/s, asyncio debug off": "serve_rps_asyncio_debug_off",
    "Serve /health req/s, asyncio debug on": "serve_rps_asyncio_debug_on",
}


def figures_rows(r: dict) -> list[tuple[str, str]]:
    """(what, figure) for every figure this run measured or tried."""
    return [(label, value) for label, value in _all_rows(r)
            if all(key in r for prefix, key in ROW_KEYS.items() if label.startswith(prefix))]


def each_pair(pairs: list | None, measured: str) -> str:
    """Every pair of a run, as `measured / floor = ratio`."""
    return "; ".join(f"{number(pair.get(measured), ' s')} / {number(pair.get('floor_s'), ' s')} = "
                     f"{number(pair.get('ratio'), 'x')}" for pair in pairs or [])


def _all_rows(r: dict) -> list[tuple[str, str]]:
    floor = r.get("floor_3_hosts") or {}
    worker_floor = r.get("rebuild_one_worker_floor") or {}
    rows = [
        ("Floor, 3 bare hosts: Docker installed by hand (in parallel)",
         number(floor.get("install_docker_s"), " s")),
        ("Floor, 3 bare hosts: image pulled by hand (in parallel)",
         number(floor.get("pull_image_s"), " s")),
        ("Floor, 3 bare hosts: head, then workers, until /health and every node alive",
         number(floor.get("ray_to_health_s"), " s")),
        ("Floor, 3 bare hosts: total", number(floor.get("total_s"), " s")),
        ("Fresh converge, 3 bare hosts to verified", number(r.get("fresh_converge_3_hosts_s"), " s")),
        ("Fresh converge against its floor, each pair (converge / floor)",
         each_pair(r.get("fresh_converge_pairs"), "converge_s")),
        *[(f"Fresh converge, {hosts(n)} bare to verified", number(v, " s"))
          for n, v in by_size(r.get("converge_hosts_s")) if n != "3"],
        ("No-op re-run, 3 hosts (median)", number(r.get("noop_rerun_3_hosts_s"), " s")),
        ("`pyinfra inventories/lab.py exec -- true`, 3 hosts (median)",
         number(r.get("pyinfra_exec_true_3_hosts_s"), " s")),
        ("Containers restarted by the no-op re-run", number(r.get("noop_rerun_containers_restarted"))),
        ("Verify only, 3 hosts (median), every check through the hosts' SSH connections",
         number(r.get("verify_only_3_hosts_s"), " s")),
        ("Verify only, 3 hosts (median), every check straight from the control machine "
         f"(the run at {(r.get('verify_direct_baseline') or {}).get('commit', '?')})",
         number((r.get("verify_direct_baseline") or {}).get("verify_only_3_hosts_s"), " s")),
        ("Verify with one worker's container killed, until it exits red",
         number(r.get("verify_dead_worker_s"), " s")),
        ("Worker floor: one bare host, Docker, pull, worker alive at the head",
         number(worker_floor.get("total_s"), " s")),
        ("Rebuild of one lost worker, bare to green (`deploy/rebuild.py`)",
         number(r.get("rebuild_one_worker_s"), " s")),
        ("Rebuild against its floor, each pair (rebuild / floor)",
         each_pair(r.get("rebuild_one_worker_pairs"), "rebuild_s")),
        *[(f"Facts and plan (`--dry`) across {hosts(n)} (bare, over SSH)", number(v, " s"))
          for n, v in by_size(r.get("scale_facts_dry_s"))],
        *[(f"`pyinfra ... exec -- true` across {hosts(n)} (the same bare hosts)", number(v, " s"))
          for n, v in by_size(r.get("scale_exec_true_s"))],
        *[(f"`lab up --fresh` of {hosts(n)}", number(v, " s"))
          for n, v in by_size(r.get("lab_up_fresh_s"))],
        ("Memory of one bare lab host", number(r.get("bare_host_memory_mib"), " MiB")),
        *[(f"Memory of one converged lab host ({role})", number(v, " MiB"))
          for role, v in (r.get("ray_host_memory_mib") or {}).items()],
        ("Ray image size (`docker image inspect`, from the lab registry)",
         number(r["ray_image_bytes"] / 1024**2, " MiB") if r.get("ray_image_bytes") else FAILED),
        ("Serve /health req/s, asyncio debug off", number(r.get("serve_rps_asyncio_debug_off"))),
        ("Serve /health req/s, asyncio debug on", number(r.get("serve_rps_asyncio_debug_on"))),
        *head_ft_rows(r),
        *security_rows(r),
    ]
    return rows


SECURITY_FIGURES = (
    ("fresh_converge_3_hosts_s", "fresh converge, 3 bare hosts to verified", " s"),
    ("noop_rerun_3_hosts_s", "no-op re-run, 3 hosts (median)", " s"),
    ("serve_rps", "Serve /health req/s", ""),
    ("tasks_per_s", "tiny Ray tasks per second (a driver on the head)", ""),
)


def security_rows(r: dict) -> list[tuple[str, str]]:
    """Mutual TLS off and on, side by side; what the outsider tried and reached."""
    sec = r.get("security")
    if sec is None:
        return []
    rows = []
    for key, what, unit in SECURITY_FIGURES:
        for mode, label in (("plain", "TLS off"), ("tls", "TLS on")):
            rows.append((f"Security: {what}, {label}", number((sec.get(mode) or {}).get(key), unit)))
    rows += [
        ("Security: Ray containers running with RAY_USE_TLS=1 (TLS on)", number(sec.get("tls_nodes"))),
        ("Security: Serve req/s, TLS on against off", number(sec.get("serve_rps_tls_vs_plain"), "x")),
        ("Security: tiny tasks per second, TLS on against off",
         number(sec.get("tasks_per_s_tls_vs_plain"), "x")),
        ("Security: ways in the outsider tried", number(len(sec["ways_tried"]) if sec.get("ways_tried")
                                                        is not None else None)),
        ("Security: ways in that reached the cluster", number(sec.get("outsider_reached"))),
    ]
    return rows


def head_ft_rows(r: dict) -> list[tuple[str, str]]:
    """(a) head restarted by a release, (b) head host rebuilt: with the GCS store and without."""
    rows = []
    for section, label in (("head_ft", "with the GCS store"), ("no_head_ft", "without the store")):
        if section not in r:
            continue
        for case, what in (("head_restart", "head restarted by a release"),
                           ("head_rebuild", "head host destroyed and rebuilt")):
            f = (r.get(section) or {}).get(case)
            value = FAILED if f is None else (
                f"{f['failed_requests']} failed requests, longest gap {f['longest_gap_s']} s, "
                f"{f['workers_restarted']} workers restarted, head back in {f['head_back_s']} s")
            rows.append((f"Through a worker, {what}, {label}", value))
    return rows


def phases_section(r: dict) -> str:
    """Per-phase breakdown of the fresh converge and the no-op (SEEDCORE_TIMINGS), the biggest named."""
    timings = r.get("timings") or {}
    parts = []
    for label, title in (("fresh_converge_3_hosts", "Fresh converge, 3 hosts"),
                         ("noop_rerun_3_hosts", "No-op re-run, 3 hosts"),
                         ("rebuild_one_worker", "Rebuild of one lost worker (all 3 hosts in the run)")):
        recorded = timings.get(label)
        if not recorded or not recorded.get("phases"):
            parts.append(f"**{title}**: {NOT_RECORDED} (the deploy wrote no `SEEDCORE_TIMINGS` file).")
            continue
        phases = recorded["phases"]
        total = sum(phases.values()) or 1
        rows = [f"| {name} | {number(seconds, ' s')} | {seconds / total * 100:.0f}% |"
                for name, seconds in phases.items()]
        biggest = max(phases, key=phases.get)
        lines = [f"**{title}**", "", "| Phase | Seconds | Share |", "|---|---|---|", *rows]
        if recorded.get("connect_s") is not None:
            lines.append(f"| (connect) | {number(recorded['connect_s'], ' s')} | |")
        lines += ["", f"Biggest cost: **{biggest}**, {number(phases[biggest], ' s')} "
                      f"({phases[biggest] / total * 100:.0f}% of the phases)."]
        operations = sorted(recorded.get("operations") or [], key=lambda item: -item[1])[:5]
        if operations:
            lines.append("Slowest operations: " + "; ".join(
                f"{name} {number(seconds, ' s')}" for name, seconds in operations) + ".")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


RAY_STEP = "Files written, Ray started, Serve answering"


def converge_against_floor(r: dict, floor_key: str = "floor_3_hosts",
                           label: str = "fresh_converge_3_hosts", ray_floor: str = "ray_to_health_s") -> str:
    """A converge (by default the fresh one of 3 hosts) beside its floor, step
    by step, the widest gap named: `floor_key` names the floor's figures,
    `label` the converge's SEEDCORE_TIMINGS, `ray_floor` the floor's Ray step."""
    floor = r.get(floor_key) or {}
    recorded = (r.get("timings") or {}).get(label) or {}
    phases = recorded.get("phases") or {}
    if not floor.get("total_s") or not phases:
        return f"{NOT_RECORDED}: it needs the floor and the converge's phases from this run."
    own = (recorded.get("connect_s") or 0.0) + sum(
        phases.get(name, 0.0) for name in ("preflight", "plan", "verify", "other"))
    ours = {
        "Docker installed and configured": phases.get("docker", 0.0),
        "Image pulled": phases.get("pull", 0.0),
        RAY_STEP: sum(phases.get(name, 0.0) for name in ("files", "stop_start", "serve")),
        "Only the deploy: connect, preflight, plan, verify, the rest": own,
    }
    by_hand = {
        "Docker installed and configured": floor.get("install_docker_s"),
        "Image pulled": floor.get("pull_image_s"),
        RAY_STEP: floor.get(ray_floor),
        "Only the deploy: connect, preflight, plan, verify, the rest": 0.0,
    }
    rows = [f"| {step} | {number(by_hand[step], ' s')} | {number(seconds, ' s')} | "
            f"{number(seconds - (by_hand[step] or 0.0), ' s')} |" for step, seconds in ours.items()]
    rows.append(f"| Total | {number(floor['total_s'], ' s')} | {number(recorded.get('total_s'), ' s')} | "
                f"{number((recorded.get('total_s') or 0.0) - floor['total_s'], ' s')} |")
    widest = max(ours, key=lambda step: ours[step] - (by_hand[step] or 0.0))
    return "\n".join([
        "| Step | Floor, by hand | This deploy | Difference |", "|---|---|---|---|", *rows, "",
        f"The widest gap: **{widest}** ({number(ours[widest] - (by_hand[widest] or 0.0), ' s')} more "
        "than by hand). The deploy's Docker step also installs the tools its checks use (iproute2, "
        "procps, curl) and gpg, and checks the repository key's fingerprint before apt trusts it; "
        "the floor does neither.",
    ])


def rebuild_against_floor(r: dict) -> str:
    """The rebuild of one lost worker beside its floor, step by step. The deploy's
    run covers the whole inventory (the other hosts read and found current, the
    whole cluster verified); the floor touches the lost worker only."""
    return converge_against_floor(r, "rebuild_one_worker_floor", "rebuild_one_worker", "ray_to_alive_s")


def side_by_side(r: dict) -> str:
    """`ray up` against the deploy: one row per key of either dict."""
    pair = r.get("ray_up_side_by_side")
    if not pair:
        return f"{NOT_RECORDED} (`bench/rayup.py` did not run or failed)."
    ray_up, ours = pair.get("ray_up") or {}, pair.get("ours") or {}
    keys = list(dict.fromkeys([*ray_up, *ours]))
    rows = [f"| {key} | {_cell(ray_up.get(key))} | {_cell(ours.get(key))} |" for key in keys]
    return "\n".join(["| | `ray up` | this deploy |", "|---|---|---|", *rows])


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return number(value)
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def comparisons(r: dict) -> str:
    """Sentences comparing each figure with its floor, from the figures."""
    lines = []
    floor = (r.get("floor_3_hosts") or {}).get("total_s")
    converge = r.get("fresh_converge_3_hosts_s")
    if floor and converge:
        lines.append(f"- The fresh converge of 3 hosts took {number(converge, ' s')} against a floor of "
                     f"{number(floor, ' s')}: {number(converge - floor, ' s')} "
                     f"({number(converge / floor, 'x')}) for what the deploy adds.")
    noop, exec_true = r.get("noop_rerun_3_hosts_s"), r.get("pyinfra_exec_true_3_hosts_s")
    if noop and exec_true:
        lines.append(f"- The no-op re-run took {number(noop, ' s')}, {number(noop / exec_true, 'x')} "
                     f"pyinfra's own `exec -- true` ({number(exec_true, ' s')}) on the same hosts.")
    rebuild = r.get("rebuild_one_worker_s")
    worker_floor = (r.get("rebuild_one_worker_floor") or {}).get("total_s")
    if rebuild and worker_floor:
        lines.append(f"- Rebuilding a lost worker took {number(rebuild, ' s')} against its floor of "
                     f"{number(worker_floor, ' s')}.")
    dry = r.get("scale_facts_dry_s") or {}
    measured = sorted((int(n), v) for n, v in dry.items() if v)
    if len(measured) >= 2:
        (n0, v0), (n1, v1) = measured[0], measured[-1]
        lines.append(f"- `--dry` grows from {number(v0, ' s')} at {hosts(n0)} to {number(v1, ' s')} at "
                     f"{n1}: {number((v1 - v0) / (n1 - n0), ' s')} per added host.")
    floor_ratio, exec_true = r.get("scale_exec_true_20_vs_1"), r.get("scale_exec_true_s") or {}
    if floor_ratio and r.get("scale_20_vs_1"):
        lines.append(f"- On the same bare hosts, pyinfra's own `exec -- true` grows "
                     f"{number(floor_ratio, 'x')} from 1 host to 20 ({number(exec_true.get('1'), ' s')} to "
                     f"{number(exec_true.get('20'), ' s')}): the lab's hosts share this machine's cores, "
                     f"so every host's sshd and sudo are paid here too; `--dry` grows "
                     f"{number(r['scale_20_vs_1'], 'x')}.")
    phases = r.get("scale_dry_phases_s") or {}
    if phases.get("1") and phases.get("20"):
        one, twenty = phases["1"], phases["20"]
        grown = ", ".join(f"{what} {number(one[key], ' s')} to {number(twenty[key], ' s')}" for what, key in (
            ("connect (imports, config, SSH)", "connect_s"),
            ("preflight (every host's facts, all hosts at once)", "preflight_s"),
            ("plan (the deploy file, host after host)", "plan_s")))
        lines.append(f"- Where `--dry` grows from 1 host to 20 (one run each, `SEEDCORE_TIMINGS`): {grown}.")
    sec = r.get("security") or {}
    tls, plain = sec.get("tls") or {}, sec.get("plain") or {}
    if sec.get("serve_rps_tls_vs_plain") and sec.get("tasks_per_s_tls_vs_plain"):
        lines.append(
            f"- Mutual TLS on against off, in the same run: Serve `/health` {number(tls.get('serve_rps'))} "
            f"against {number(plain.get('serve_rps'))} req/s ({number(sec['serve_rps_tls_vs_plain'], 'x')}), "
            f"tiny tasks {number(tls.get('tasks_per_s'))} against {number(plain.get('tasks_per_s'))} "
            "per second "
            f"({number(sec['tasks_per_s_tls_vs_plain'], 'x')}), a fresh converge "
            f"{number(tls.get('fresh_converge_3_hosts_s'), ' s')} against "
            f"{number(plain.get('fresh_converge_3_hosts_s'), ' s')}; each is one measurement on cores the "
            "lab's hosts share, so a difference of a few tens of percent either way is this machine's noise, "
            "not TLS.")
    judged = [(key, verdict(lookup(r, key), comparison, limit)) for key, comparison, limit, _ in TARGETS
              if present(r, key)]
    missed = [(key, text) for key, text in judged if text.startswith(("missed", "not met"))]
    if missed:
        lines.append("- Targets missed: " + "; ".join(f"`{key}` {text}" for key, text in missed) + ".")
    elif judged:
        lines.append("- Every target measured in this run is met.")
    return "\n".join(lines) or "- No comparison could be made: the figures are missing."


def on_paper(r: dict) -> str:
    """Item 9: 100 and 1,000 hosts from the measured per-host costs and a stated bandwidth."""
    image = r.get("ray_image_bytes")
    dry = {int(n): v for n, v in (r.get("scale_facts_dry_s") or {}).items() if v}
    floor = r.get("floor_3_hosts") or {}
    if not image or len(dry) < 2:
        return f"{NOT_RECORDED}: it needs the image size and `--dry` at two sizes from this run."
    low, high = min(dry), max(dry)
    per_host = (dry[high] - dry[low]) / (high - low)
    bandwidth = REGISTRY_BANDWIDTH_GBIT_S * 1e9 / 8
    rows = ["| Hosts | Image bytes through one registry (estimated) | Facts and plan (estimated) "
            "| Head before workers (measured, does not grow) |", "|---|---|---|---|"]
    for hosts in PAPER_SIZES:
        pull = hosts * image / bandwidth
        facts = dry[low] + per_host * (hosts - low)
        rows.append(f"| {hosts} | {number(hosts * image / 1e9, ' GB')}: {number(pull, ' s')} "
                    f"| {number(facts, ' s')} | {number(floor.get('head_up_s'), ' s')} |")
    costs = {"image pulls": PAPER_SIZES[-1] * image / bandwidth,
             "facts and plan": dry[low] + per_host * (PAPER_SIZES[-1] - low)}
    biggest = max(costs, key=costs.get)
    return "\n".join([
        f"Measured in this run: the Ray image is {number(image / 1024**2, ' MiB')} "
        f"(`docker image inspect` in the lab registry); `--dry` costs {number(per_host, ' s')} "
        f"per added host ({low} to {high} hosts); the head takes {number(floor.get('head_up_s'), ' s')} "
        "from `docker run` to a healthy GCS before any "
        "worker can join. **Assumed**: one registry serves "
        f"{REGISTRY_BANDWIDTH_GBIT_S:g} Gbit/s (`REGISTRY_BANDWIDTH_GBIT_S` in bench/render.py), every "
        "host pulls the whole image, no layer is cached, and facts keep growing linearly.",
        "",
        *rows,
        "",
        f"At {PAPER_SIZES[-1]} hosts the biggest estimated cost is **{biggest}** "
        f"({number(costs[biggest], ' s')}). What the deploy offers against it: `docker_registry_mirrors` "
        "(`registry-mirrors` in daemon.json; Docker applies it to Docker Hub images only, so it does "
        "not spread pulls of an image in a private registry); `docker_daemon_extra` can set "
        "`max-concurrent-downloads` (layers per host, not hosts per registry); a release "
        "(`deploy/rollout.py`) "
        "pulls everywhere before it stops anything, so pulls are off the downtime path. What it does not "
        "offer: a bound on how many hosts pull at once, peer-to-peer image distribution, or a pre-pull "
        "step apart from a rollout. Facts cost one SSH command per host per run (bundled, all hosts at "
        "once, bounded by pyinfra's `--parallel`), one more on a host that installs from a checked "
        "apt repository (its Release file, all hosts at once), and each file one more; what grows "
        "with hosts past that is pyinfra's own planning, about 30 operations per host.",
    ])


def failures(r: dict) -> str:
    if not r.get("failures"):
        return ""

    def reason(text: str) -> str:
        lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
        return (lines[-1] if lines else "no detail")[:240]

    lines = "\n".join(f"- {name}: `{reason(text)}`" for name, text in r["failures"].items())
    return f"## Measurements that failed or were skipped in this run\n\n{lines}\n\n"


def markdown(r: dict) -> str:
    table = "\n".join(f"| {name} | {value} |" for name, value in figures_rows(r))
    return f"""# Benchmarks

Produced by `make bench` (`bench/run.py`) at commit `{r.get('commit', 'unknown')}` on
{r.get('machine', 'an unknown machine')}; scenarios run: {', '.join(r.get('scenarios', [])) or 'none'}.
The lab hosts are containers on that one machine, so they share its cores.{runs_note(r)}

## Targets

{targets_table(r)}

{comparisons(r)}

## Figures

| What | Figure |
|---|---|
{table}

## Where the time goes

### Fresh converge against its floor

{converge_against_floor(r)}

### Rebuild of a lost worker against its floor

The floor installs Docker, pulls and starts Ray on the lost host only; the deploy's run also reads
the other hosts, finds them current, and verifies the whole cluster.

{rebuild_against_floor(r)}

### Per phase

{phases_section(r)}

## Side by side with `ray up`

{side_by_side(r)}

## Past this machine, on paper

{on_paper(r)}

{failures(r)}## How the figures are taken

- **Floor**: the deploy's unavoidable work typed by hand on bare hosts of the same releases in the same
  run: Docker's packages from the same source (the lab's apt mirror or the distribution), the same
  daemon.json, the same image pulled, then `docker run` with the options and `ray start` command the
  deploy renders for that inventory (`bench/byhand.py` reads them from `seedcore/render.py`), head then
  workers, `serve deploy` of the rendered config, until `/health` answers and every node is alive.
- **Pairs**: the floor and the fresh converge are measured `--pairs` times (default 3), each on hosts
  recreated bare; the pair with the median ratio is published (its floor, converge and phases), and
  every pair is listed under Figures: a pull of the same image varies by tens of percent from run to
  run on this machine.
  The converge it is compared with runs on the same hosts recreated bare.
- **No-op re-run**: the deploy again with nothing changed; it must restart no container. Its floor is
  `pyinfra inventories/lab.py exec -- true` on the same hosts.
- **Rebuild**: one worker host destroyed and recreated bare, then `deploy/rebuild.py`; its floor is the
  same host done by hand until the head lists it alive.
- **Dead worker**: one worker's container killed (its restart policy off first), then `deploy/verify.py`
  until it exits red.
- **Scale**: `deploy/cluster.py --dry` (connect, facts, preflight, plan) across N bare hosts; a size the
  machine's memory cannot hold is skipped, with the figures that say so.
- **Head fault tolerance**: a client calls `/health` through a worker every 0.2 s while a release
  restarts the head and while the head host is destroyed and rebuilt, on 4 hosts without the GCS store,
  then with it (keys `head_ft` and `no_head_ft` in docs/benchmarks.json).
- **Security**: 3 hosts recreated bare and converged with mutual TLS off, then again with it on (the
  default), each measured alike: the fresh converge, the no-op re-run, Serve `/health` req/s for 10 s,
  and 1,000 tiny Ray tasks from a driver in the head's container (after 500 to warm up; the median of
  5 rounds). Then the lab's own inventory (monitoring on) is converged and the outsider, a container
  on the lab network in no inventory, tries every way in: the Jobs API, a Ray Client session, raw TCP
  to every managed port of the head and a worker and to Prometheus, and the web doors without a
  password and with a wrong one, with SSH and the doors' right password as the controls that must
  answer (keys under `security` in docs/benchmarks.json; `security.ways_tried` lists them).
"""


def hosts(count) -> str:
    """"1 host", "3 hosts"."""
    return f"{count} host" + ("" if str(count) == "1" else "s")


def runs_note(r: dict) -> str:
    """Which scenarios each run took, when the figures come from more than one
    (`--merge`); every ratio is still taken within one run."""
    runs = r.get("runs") or []
    if len(runs) < 2:
        return ""
    lines = "\n".join(f"- {run['started']}, commit `{run['commit']}`: {', '.join(run['scenarios'])}"
                      for run in runs)
    return ("\n\nThe figures come from these runs (each ratio is taken within one run):\n" + lines)

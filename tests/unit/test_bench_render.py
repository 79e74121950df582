"""docs/benchmarks.md is written from one run's figures: verdicts, comparisons,
the biggest cost and the side-by-side table all come from the results dict."""

import pytest

from bench import render
from bench.run import parser

RESULTS = {
    "commit": "abc1234",
    "machine": "lab-box x86_64, 2 cores",
    "scenarios": ["floor", "noop"],
    "floor_3_hosts": {"install_docker_s": 50.0, "pull_image_s": 30.0, "head_up_s": 5.0,
                      "ray_to_health_s": 20.0, "total_s": 100.0},
    "fresh_converge_3_hosts_s": 150.0,
    "fresh_converge_3_hosts_vs_floor": 1.5,
    "noop_rerun_3_hosts_s": 2.0,
    "pyinfra_exec_true_3_hosts_s": 1.0,
    "noop_vs_pyinfra_floor": 2.0,
    "noop_rerun_containers_restarted": 0,
    "scale_facts_dry_s": {"1": 4.0, "5": 6.0, "20": 12.0},
    "scale_20_vs_1": 3.0,
    "ray_image_bytes": 800 * 1024**2,
    "timings": {
        "fresh_converge_3_hosts": {"phases": {"connect and facts": 10.0, "Docker": 60.0, "pull": 30.0},
                                   "operations": [["Install Docker", 55.0], ["Pull", 30.0]],
                                   "connect_s": 2.0},
        "noop_rerun_3_hosts": None,
    },
    "failures": {"verify_dead_worker_s": "Traceback...\nsubprocess.TimeoutExpired: Command 'x' timed out"},
}


def test_verdicts_say_met_or_by_how_much_missed():
    assert render.verdict(1.2, "<=", 1.3) == "met"
    assert render.verdict(1.5, "<=", 1.3) == "missed by 0.20 (15% over)"
    assert render.verdict(16.0, "<", 15) == "missed by 1.00 (7% over)"
    assert render.verdict(2, "==", 0) == "missed by 2"
    assert render.verdict(None, "<=", 1.3) == "not measured"


def test_targets_table_rows():
    table = render.targets_table(RESULTS).splitlines()
    assert table[2] == "| `fresh_converge_3_hosts_vs_floor` | 1.50x | <= 1.3x | missed by 0.20 (15% over) |"
    assert table[3] == "| `noop_rerun_3_hosts_s` | 2.00 s | <= 2.5 s | met |"
    assert table[4] == "| `noop_rerun_containers_restarted` | 0 | == 0 | met |"
    assert table[7] == "| `scale_20_vs_1` | 3.00x | <= 1.5x | missed by 1.50 (100% over) |"
    assert table[8] == "| `verify_dead_worker_s` | not measured | < 15 s | not measured |"


def test_comparisons_are_written_from_the_figures():
    lines = render.comparisons(RESULTS).splitlines()
    assert lines[0] == ("- The fresh converge of 3 hosts took 150 s against a floor of 100 s: "
                        "50.0 s (1.50x) for what the deploy adds.")
    assert lines[1] == ("- The no-op re-run took 2.00 s, 2.00x pyinfra's own `exec -- true` (1.00 s) "
                        "on the same hosts.")
    assert lines[2] == "- `--dry` grows from 4.00 s at 1 host to 12.0 s at 20: 0.42 s per added host."
    assert lines[3] == ("- Targets missed: `fresh_converge_3_hosts_vs_floor` missed by 0.20 (15% over); "
                        "`scale_20_vs_1` missed by 1.50 (100% over).")


def test_the_biggest_phase_is_computed_and_a_missing_timings_file_says_not_recorded():
    section = render.phases_section(RESULTS)
    assert "| Docker | 60.0 s | 60% |" in section.splitlines()
    assert "Biggest cost: **Docker**, 60.0 s (60% of the phases)." in section.splitlines()
    assert "Slowest operations: Install Docker 55.0 s; Pull 30.0 s." in section.splitlines()
    assert ("**No-op re-run, 3 hosts**: not recorded (the deploy wrote no `SEEDCORE_TIMINGS` file)."
            in section.splitlines())


def test_side_by_side_has_a_row_for_every_key_of_either_dict():
    results = {"ray_up_side_by_side": {"ray_up": {"fresh_s": 90.5, "noop_s": 12.0},
                                       "ours": {"fresh_s": 150.0, "verified": True}}}
    assert render.side_by_side(results).splitlines() == [
        "| | `ray up` | this deploy |",
        "|---|---|---|",
        "| fresh_s | 90.5 | 150 |",
        "| noop_s | 12.0 | - |",
        "| verified | - | True |",
    ]
    assert render.side_by_side({}) == "not recorded (`bench/rayup.py` did not run or failed)."


def test_on_paper_marks_the_assumption_and_computes_the_biggest_cost():
    text = render.on_paper(RESULTS)
    assert "**Assumed**: one registry serves 1 Gbit/s" in text
    assert "| 1000 | 839 GB: 6711 s | 425 s | 5.00 s |" in text.splitlines()
    assert "At 1000 hosts the biggest estimated cost is **image pulls** (6711 s)." in text


def test_markdown_names_the_commit_and_lists_failures_with_their_last_line():
    text = render.markdown(RESULTS)
    assert "at commit `abc1234`" in text
    assert "- verify_dead_worker_s: `subprocess.TimeoutExpired: Command 'x' timed out`" in text.splitlines()
    assert "| Floor, 3 bare hosts: total | 100 s |" in text.splitlines()


def test_a_failed_figure_renders_as_failed_not_as_a_crash():
    text = render.markdown({"commit": "c", "floor_3_hosts": None, "fresh_converge_3_hosts_s": None})
    assert "| Fresh converge, 3 bare hosts to verified | failed (see `failures` in docs/benchmarks.json) |" \
        in text.splitlines()


def test_quick_check_options():
    args = parser().parse_args(["--only", "floor,noop", "--sizes", "1,3"])
    assert args.only == ["floor", "noop"] and args.sizes == [1, 3]
    with pytest.raises(SystemExit):
        parser().parse_args(["--only", "flor"])


def test_memory_figures_and_the_fit_check():
    from bench import measure

    assert measure.mib("123.5MiB / 23.4GiB") == 123.5
    assert measure.mib("1.5GiB / 23.4GiB") == 1536.0
    assert measure.fits(20, 400.0, running=10, available=10000.0) == ""
    assert measure.fits(100, 400.0, running=3, available=10000.0) == (
        "skipped: 100 hosts need about 38800 MiB more (400 MiB each, measured), "
        "10000 MiB available (capped at 24 GiB)")


def test_a_figure_this_run_did_not_try_is_left_out_and_a_failed_one_is_shown_failed():
    rows = dict(render.figures_rows({"noop_rerun_3_hosts_s": None, "verify_only_3_hosts_s": 6.0}))
    assert rows == {
        "No-op re-run, 3 hosts (median)": "failed (see `failures` in docs/benchmarks.json)",
        "Verify only, 3 hosts (median), every check through the hosts' SSH connections": "6.00 s",
    }


def test_figures_from_several_runs_name_each_run():
    from bench.render import runs_note

    runs = [{"started": "2026-11-26T20:30:00Z", "commit": "a68ba0f", "scenarios": ["headft", "rayup"]},
            {"started": "2026-11-26T21:00:00Z", "commit": "a68ba0f", "scenarios": ["floor", "noop"]}]
    assert runs_note({"runs": runs[:1]}) == ""
    assert runs_note({"runs": runs}).splitlines()[2:] == [
        "The figures come from these runs (each ratio is taken within one run):",
        "- 2026-11-26T20:30:00Z, commit `a68ba0f`: headft, rayup",
        "- 2026-11-26T21:00:00Z, commit `a68ba0f`: floor, noop",
    ]


def test_the_converge_is_set_beside_its_floor_step_by_step():
    results = {
        "floor_3_hosts": {"install_docker_s": 20.0, "pull_image_s": 20.0, "ray_to_health_s": 10.0,
                          "total_s": 50.0},
        "timings": {"fresh_converge_3_hosts": {
            "connect_s": 0.5, "total_s": 70.0,
            "phases": {"preflight": 0.5, "plan": 0.5, "docker": 30.0, "files": 2.0, "pull": 21.0,
                       "stop_start": 10.0, "serve": 4.0, "verify": 1.5, "other": 0.0}}},
    }
    assert render.converge_against_floor(results).splitlines()[:8] == [
        "| Step | Floor, by hand | This deploy | Difference |",
        "|---|---|---|---|",
        "| Docker installed and configured | 20.0 s | 30.0 s | 10.0 s |",
        "| Image pulled | 20.0 s | 21.0 s | 1.00 s |",
        "| Files written, Ray started, Serve answering | 10.0 s | 16.0 s | 6.00 s |",
        "| Only the deploy: connect, preflight, plan, verify, the rest | 0.00 s | 3.00 s | 3.00 s |",
        "| Total | 50.0 s | 70.0 s | 20.0 s |",
        "",
    ]
    assert "The widest gap: **Docker installed and configured** (10.0 s more than by hand)" in (
        render.converge_against_floor(results))


def test_without_the_floor_the_step_table_says_so():
    assert render.converge_against_floor({"timings": {}}).startswith(render.NOT_RECORDED)


def test_the_rebuild_is_set_beside_its_own_floor():
    results = {
        "rebuild_one_worker_floor": {"install_docker_s": 15.0, "pull_image_s": 20.0, "ray_to_alive_s": 3.0,
                                     "total_s": 38.0},
        "timings": {"rebuild_one_worker": {
            "connect_s": 0.5, "total_s": 50.0,
            "phases": {"preflight": 0.5, "plan": 0.5, "docker": 20.0, "files": 1.0, "pull": 21.0,
                       "stop_start": 4.0, "serve": 0.0, "verify": 2.5, "other": 0.0}}},
    }
    lines = render.rebuild_against_floor(results).splitlines()
    assert lines[2] == "| Docker installed and configured | 15.0 s | 20.0 s | 5.00 s |"
    assert lines[4] == "| Files written, Ray started, Serve answering | 3.00 s | 5.00 s | 2.00 s |"
    assert lines[6] == "| Total | 38.0 s | 50.0 s | 12.0 s |"
    assert "**Rebuild of one lost worker (all 3 hosts in the run)**" in render.phases_section(results)


def test_every_floor_and_converge_pair_is_listed():
    results = {"fresh_converge_pairs": [{"floor_s": 50.0, "converge_s": 60.0, "ratio": 1.2},
                                        {"floor_s": 40.0, "converge_s": None, "ratio": None}]}
    rows = dict(render.figures_rows(results))
    assert rows["Fresh converge against its floor, each pair (converge / floor)"] == (
        f"60.0 s / 50.0 s = 1.20x; {render.FAILED} / 40.0 s = {render.FAILED}")
    assert "Rebuild against its floor, each pair (rebuild / floor)" not in rows
    results["rebuild_one_worker_pairs"] = [{"floor_s": 30.0, "rebuild_s": 36.0, "ratio": 1.2}]
    rows = dict(render.figures_rows(results))
    assert rows["Rebuild against its floor, each pair (rebuild / floor)"] == "36.0 s / 30.0 s = 1.20x"


def test_where_dry_grows_is_written_from_its_phases():
    results = {**RESULTS, "scale_dry_phases_s": {
        "1": {"connect_s": 0.6, "preflight_s": 0.15, "plan_s": 0.05, "total_s": 0.9},
        "20": {"connect_s": 1.0, "preflight_s": 1.4, "plan_s": 0.3, "total_s": 2.9}}}
    assert ("- Where `--dry` grows from 1 host to 20 (one run each, `SEEDCORE_TIMINGS`): connect "
            "(imports, config, SSH) 0.60 s to 1.00 s, preflight (every host's facts, all hosts at once) "
            "0.15 s to 1.40 s, plan (the deploy file, host after host) 0.05 s to 0.30 s."
            in render.comparisons(results).splitlines())
    without = render.comparisons(RESULTS).splitlines()
    assert not any(line.startswith("- Where `--dry` grows") for line in without)

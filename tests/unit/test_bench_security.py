"""The security scenario's measurements and how they are published."""

import os
import stat
import subprocess

from bench import render
from bench import security as sec_bench


def test_the_driver_reaches_the_head_container_whole_on_stdin(tmp_path):
    (tmp_path / "sudo").write_text('#!/bin/sh\nexec "$@"\n')
    (tmp_path / "timeout").write_text('#!/bin/sh\nshift\nexec "$@"\n')
    (tmp_path / "docker").write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/argv\ncat > {tmp_path}/stdin\n')
    for name in ("sudo", "timeout", "docker"):
        (tmp_path / name).chmod(stat.S_IRWXU)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    subprocess.run(["sh", "-c", sec_bench.driver_command()], env=env, check=True, timeout=30)
    assert (tmp_path / "argv").read_text().split() == ["exec", "-i", "seedcore-ray-head", "python", "-"]
    assert (tmp_path / "stdin").read_text() == sec_bench.DRIVER
    compile(sec_bench.DRIVER, "driver", "exec")


def test_the_drivers_figure_is_read_from_its_own_line_only():
    assert sec_bench.parse_tasks_per_s("warning: x\nTASKS_PER_S 812.5\n") == 812.5
    try:
        sec_bench.parse_tasks_per_s("Traceback ...\nRuntimeError: no GCS")
    except RuntimeError as error:
        assert "no TASKS_PER_S" in str(error) and "no GCS" in str(error)
    else:
        raise AssertionError("a driver that printed no figure was read as one")


RESULTS = {"security": {
    "plain": {"fresh_converge_3_hosts_s": 150.0, "noop_rerun_3_hosts_s": 3.1, "serve_rps": 400.0,
              "tasks_per_s": 900.0},
    "tls": {"fresh_converge_3_hosts_s": 155.0, "noop_rerun_3_hosts_s": 3.2, "serve_rps": 380.0,
            "tasks_per_s": 600.0, "tls_nodes": 3},
    "tls_nodes": 3, "serve_rps_tls_vs_plain": 0.95, "tasks_per_s_tls_vs_plain": 0.67,
    "ways_tried": ["tcp 10.0.0.11:6379", "jobs api http://10.0.0.11:8265"], "outsider_reached": [],
}}


def test_an_outsider_that_reached_nothing_meets_the_target_and_one_that_did_is_named():
    assert "| `security.outsider_reached` | none | == [] | met |" in render.targets_table(RESULTS)
    breached = {"security": {**RESULTS["security"], "outsider_reached": ["tcp 10.0.0.11:6379"]}}
    assert "not met: tcp 10.0.0.11:6379" in render.targets_table(breached)
    assert "| `security.outsider_reached` | not measured |" in render.targets_table({})


def test_tls_off_and_on_are_set_side_by_side_with_their_ratios():
    rows = dict(render.security_rows(RESULTS))
    assert rows["Security: tiny Ray tasks per second (a driver on the head), TLS off"] == "900"
    assert rows["Security: tiny Ray tasks per second (a driver on the head), TLS on"] == "600"
    assert rows["Security: tiny tasks per second, TLS on against off"] == "0.67x"
    assert rows["Security: ways in the outsider tried"] == "2"
    assert rows["Security: ways in that reached the cluster"] == "none"
    assert render.security_rows({}) == []
    failed = dict(render.security_rows({"security": {"plain": {}, "tls": {}}}))
    assert failed["Security: Serve /health req/s, TLS on"] == render.FAILED

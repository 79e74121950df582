"""The verify report: the terminal table and the JSON document."""

import json
import re

from seedcore import report
from seedcore.checks import Result

PASSING = [
    Result("head-1", "dashboard version", True, "ray_version 2.20.0 (expected 2.20.0)", 0.1),
    Result("head-1", "log:metrics_port_clash", True,
           "0 x 'Address already in use' in seedcore-ray-head logs"),
]
FAILING = [
    Result("worker-1", "metrics", True, "HTTP 200, 41 ray_ series", 0.2),
    Result("worker-1", "node alive", False,
           "10.0.0.11 not in ALIVE nodes ['10.0.0.10'] (gave up after 240s)", 240.3),
]


CONNECT = "pyinfra could not connect: Could not connect ([Errno 111] Connection refused)"
MISSING = {"worker-2": CONNECT}


def _results():
    return {"head-1": PASSING, "worker-1": FAILING}


def test_table_has_a_row_per_check_and_per_missing_host():
    lines = report.table(_results(), MISSING).splitlines()
    assert len(lines) == 1 + len(PASSING) + len(FAILING) + 1
    assert lines[0].split() == ["HOST", "CHECK", "RESULT", "DETAIL"]
    rows = [re.split(r"\s{2,}", line.strip(), maxsplit=3) for line in lines[1:]]
    assert rows[0] == ["head-1", "dashboard version", "ok", "ray_version 2.20.0 (expected 2.20.0)"]
    assert rows[3] == ["worker-1", "node alive", "FAIL",
                       "10.0.0.11 not in ALIVE nodes ['10.0.0.10'] (gave up after 240s)"]
    assert rows[4] == ["worker-2", "-", "FAIL", f"not verified: failed earlier in this run: {CONNECT}"]


def test_table_columns_line_up():
    lines = report.table(_results(), MISSING).splitlines()
    result_column = {line.index(word) for line, word in zip(
        lines, ["RESULT", "ok", "ok", "ok", "FAIL", "FAIL"], strict=True)}
    assert len(result_column) == 1


def test_table_with_only_missing_hosts():
    lines = report.table({}, {"head-1": CONNECT}).splitlines()
    assert len(lines) == 2
    assert re.split(r"\s{2,}", lines[1].strip(), maxsplit=3) == [
        "head-1", "-", "FAIL", f"not verified: failed earlier in this run: {CONNECT}"]


def test_document_marks_each_host_and_the_whole_run():
    document = report.document(_results(), MISSING)
    assert document["ok"] is False
    assert document["hosts"]["head-1"]["ok"] is True
    assert document["hosts"]["worker-1"]["ok"] is False
    assert document["hosts"]["worker-2"] == {
        "ok": False, "checks": [], "error": f"not verified: failed earlier in this run: {CONNECT}",
    }
    assert document["hosts"]["worker-1"]["checks"][1] == {
        "host": "worker-1", "check": "node alive", "ok": False,
        "detail": "10.0.0.11 not in ALIVE nodes ['10.0.0.10'] (gave up after 240s)", "seconds": 240.3,
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", document["generated_at"])


def test_document_is_ok_when_every_host_passes():
    document = report.document({"head-1": PASSING}, {})
    assert document["ok"] is True
    assert list(document["hosts"]) == ["head-1"]


def test_a_missing_host_alone_fails_the_run():
    assert report.document({"head-1": PASSING}, {"worker-1": CONNECT})["ok"] is False


def test_write_creates_the_directory_and_json(tmp_path):
    path = tmp_path / "reports" / "nested" / "verify.json"
    document = report.document(_results(), MISSING)
    report.write(str(path), document)
    assert json.loads(path.read_text()) == document
    assert path.read_text().endswith("}\n")

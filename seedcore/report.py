"""The verify report: a per-host table for the terminal and a JSON file."""

import json
import os
import time

from seedcore.checks import Result


def not_verified(reason: str) -> str:
    return f"not verified: failed earlier in this run: {reason}"


def table(results_by_host: dict[str, list[Result]], missing: dict[str, str]) -> str:
    """`missing`: host name -> why it failed before its checks could run."""
    rows = [("HOST", "CHECK", "RESULT", "DETAIL")]
    for host_name, results in results_by_host.items():
        for result in results:
            rows.append((host_name, result.check, "ok" if result.ok else "FAIL", result.detail))
    for host_name, reason in missing.items():
        rows.append((host_name, "-", "FAIL", not_verified(reason)))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)) + "  " + row[3]
        for row in rows
    ]
    return "\n".join(lines)


def document(results_by_host: dict[str, list[Result]], missing: dict[str, str]) -> dict:
    hosts = {
        name: {
            "ok": all(r.ok for r in results),
            "checks": [r.as_dict() for r in results],
        }
        for name, results in results_by_host.items()
    }
    for name, reason in missing.items():
        hosts[name] = {"ok": False, "checks": [], "error": not_verified(reason)}
    return {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "ok": all(entry["ok"] for entry in hosts.values()),
        "hosts": hosts,
    }


def write(path: str, report: dict) -> None:
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    with open(path, "w") as handle:
        json.dump(report, handle, indent=2)
        handle.write("\n")

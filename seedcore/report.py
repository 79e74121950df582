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


def summary(results_by_host: dict[str, list[Result]], missing: dict[str, str], during: str = "") -> str:
    """The verdict in one line: green, or which hosts are red and on which checks.
    `during`: the deploy running while the checks were taken (its verdict may not hold)."""
    red = {name: [r.check for r in results if not r.ok] for name, results in results_by_host.items()}
    red = {name: failed for name, failed in red.items() if failed}
    red.update({name: ["not verified"] for name in missing})
    total = len(results_by_host) + len(missing)
    checks = sum(len(results) for results in results_by_host.values())
    if red:
        hosts = "; ".join(f"{name} ({', '.join(failed)})" for name, failed in red.items())
        verdict = f"Verify: red on {len(red)} of {total} hosts: {hosts}"
    else:
        verdict = f"Verify: green: {checks} checks on {total} hosts"
    if during:
        verdict += f" (taken during a deploy: {during})"
    return verdict


def document(results_by_host: dict[str, list[Result]], missing: dict[str, str], during: str = "") -> dict:
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
        # The deploy that held the lock while the checks were taken ("" when none).
        "during_deploy": during,
    }


def write(path: str, report: dict) -> None:
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    with open(path, "w") as handle:
        json.dump(report, handle, indent=2)
        handle.write("\n")

"""`make bench`: time what operators wait for, on the local lab.

Every figure is measured in this run, as a ratio against work measured in the same
run where the issue asks for one; a figure is the median of `--repeat` runs where a
run is cheap. Writes bench/out/results.json, docs/benchmarks.json and
docs/benchmarks.md. Takes the lab over: it recreates hosts at will.

    python -m bench.run                                  # the full run that is published
    python -m bench.run --only floor,noop --sizes 1,3    # a quick check
    python -m bench.run --render-only                    # the doc again from bench/out/results.json
"""

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import render, scenarios  # noqa: E402
from bench.record import step  # noqa: E402

OUT = REPO / "bench" / "out"
DOCS = REPO / "docs"


def sizes(text: str) -> list[int]:
    values = [int(part) for part in text.split(",") if part.strip()]
    if not values or any(value < 1 for value in values):
        raise argparse.ArgumentTypeError(f"{text!r}: give host counts of 1 or more, comma-separated")
    return values


def scenario_list(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in scenarios.SCENARIOS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown scenario {', '.join(unknown) or text!r} (known: {', '.join(scenarios.SCENARIOS)})")
    return names


def parser() -> argparse.ArgumentParser:
    parsed = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parsed.add_argument("--repeat", type=int, default=3, help="runs per cheap figure (median kept)")
    parsed.add_argument("--pairs", type=int, default=3,
                        help="floor-and-fresh-converge pairs, and floor-and-rebuild pairs "
                             "(of each, the pair with the median ratio is published)")
    parsed.add_argument("--only", type=scenario_list, default=list(scenarios.SCENARIOS),
                        help="scenarios to run, comma-separated (default all: "
                        f"{','.join(scenarios.SCENARIOS)})")
    # 20 real Ray hosts on 2 cores add about 12 minutes: asked for with --sizes 1,3,10,20.
    parsed.add_argument("--sizes", type=sizes, default=[1, 3, 10],
                        help="host counts of the real converges (default 1,3,10; add 20 where the "
                        "machine holds it: a size memory cannot hold is skipped)")
    parsed.add_argument("--scale-sizes", type=sizes, default=[1, 5, 10, 20, 50, 100],
                        help="host counts of the --dry runs (default 1,5,10,20,50,100, "
                        "stopping where memory ends)")
    parsed.add_argument("--distros", default="bookworm,trixie",
                        help="lab host releases, as `lab up --distros`")
    parsed.add_argument("--merge", action="store_true",
                        help="keep bench/out/results.json and add this run's scenarios to it "
                        "(each scenario's figures still come from one run)")
    parsed.add_argument("--render-only", action="store_true",
                        help="write docs/benchmarks.md and .json again from bench/out/results.json")
    return parsed


def write(results: dict) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    DOCS.mkdir(exist_ok=True)
    text = json.dumps(results, indent=2) + "\n"
    (OUT / "results.json").write_text(text)
    (DOCS / "benchmarks.json").write_text(text)
    (DOCS / "benchmarks.md").write_text(render.markdown(results))


def machine() -> str:
    cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    return f"{platform.node()} {platform.machine()}, {cores} cores"


def commit() -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    # The files a bench run writes itself do not make the checkout "changed".
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                            ":!docs/benchmarks.md", ":!docs/benchmarks.json"], cwd=REPO,
                           capture_output=True, text=True).stdout.strip()
    return head.stdout.strip() + ("+changes" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.render_only:
        write(json.loads((OUT / "results.json").read_text()))
        return 0
    bench = scenarios.Bench(repeat=args.repeat, pairs=args.pairs, sizes=args.sizes,
                            scale_sizes=args.scale_sizes, distros=args.distros)
    if args.merge and (OUT / "results.json").exists():
        kept = json.loads((OUT / "results.json").read_text())
        bench.failures.update(kept.pop("failures", None) or {})
        bench.results.update(kept)
    runs = bench.results.setdefault("runs", [])
    runs.append({"commit": commit(), "scenarios": args.only,
                 "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    bench.results.update({"commit": commit(), "machine": machine(),
                          "scenarios": list(dict.fromkeys([*bench.results.get("scenarios", []), *args.only])),
                          "repeat": args.repeat})
    OUT.mkdir(parents=True, exist_ok=True)
    for name in scenarios.SCENARIOS:
        if name not in args.only:
            continue
        if name in scenarios.NEEDS_CLUSTER and "floor" not in args.only:
            bench.measure("cluster_for_" + name, lambda: scenarios.ensure_cluster(bench) or True)
        step(f"scenario {name}")
        bench.measure("scenario_" + name, lambda name=name: scenarios.SCENARIOS[name](bench) or True,
                      into={})
        bench.results["failures"] = bench.failures
        write(bench.results)
    step("bringing the lab back to 3 hosts")
    bench.measure("lab_back_to_3", lambda: scenarios.lab_up(bench, 3, fresh=False) and True, into={})
    bench.results["failures"] = bench.failures
    write(bench.results)
    print(json.dumps({key: render.lookup(bench.results, key) for key, *_ in render.TARGETS}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

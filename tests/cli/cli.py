"""Write an inventory of `@fake` hosts and run the pyinfra CLI against it.

The hosts run nothing: every command pyinfra sends them answers from the
host's `fake_responses` (see tests/cli/responses.py), so a `--dry` run shows
what the deploy would do to hosts in that state. The CLI runs from the
repository root, as the README tells operators to run it, so group_data/ is
loaded as it is for them.
"""

import ast
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from lab.control import change_rows
from tests.cli import responses

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = "deploy/cluster.py"

# Tags pinned as an operator pins them; addresses from TEST-NET-1 (RFC 5737),
# which route nowhere, so nothing here can reach a real host.
IMAGE = "registry.example.com/seedcore/ray:2.20.0"
HEAD_IP = "192.0.2.10"
WORKER_IPS = ("192.0.2.11", "192.0.2.12", "192.0.2.13")

# Every run must finish well inside this; a `--dry` run takes about a second.
RUN_TIMEOUT_S = 60

UNSET = object()
"""Pass as a data value to leave that key out of the host's data altogether."""


def pyinfra_executable() -> str:
    """The `pyinfra` of the environment running the tests."""
    beside = Path(sys.executable).with_name("pyinfra")
    if beside.exists():
        return str(beside)
    found = shutil.which("pyinfra")
    if not found:
        raise RuntimeError("no pyinfra executable next to the test interpreter or on PATH")
    return found


@dataclass(frozen=True)
class Row:
    """One line of the `--> Detected changes:` table."""

    operation: str
    change: frozenset[str]
    conditional: frozenset[str]


def _hosts(cell: str) -> frozenset[str]:
    """'2 (@fake/a, @fake/b)' -> {'@fake/a', '@fake/b'}; '-' -> {}."""
    match = re.fullmatch(r"(\d+) \((.*)\)", cell)
    if not match:
        return frozenset()
    names = frozenset(name.strip() for name in match.group(2).split(","))
    # pyinfra cuts the list at 48 characters: keep inventories to a few short names.
    assert len(names) == int(match.group(1)) and not cell.endswith("...)"), f"host list cut short: {cell}"
    return names


@dataclass
class Run:
    """What one CLI invocation printed (stdout and stderr together) and its exit code."""

    args: list[str]
    code: int
    output: str
    rows: list[Row] = field(init=False)

    def __post_init__(self):
        self.rows = self._parse_changes()

    def _parse_changes(self) -> list[Row]:
        return [Row(operation, _hosts(change), _hosts(conditional))
                for operation, change, conditional in change_rows(self.output)]

    @property
    def has_change_table(self) -> bool:
        return "--> Detected changes:" in self.output

    @property
    def started_operations(self) -> bool:
        return "Starting operation" in self.output or "Beginning operation run" in self.output

    def operations(self) -> list[str]:
        return [row.operation for row in self.rows]

    def row(self, fragment: str) -> Row:
        """The one operation whose name contains `fragment`."""
        found = [row for row in self.rows if fragment in row.operation]
        assert len(found) == 1, (
            f"expected one operation matching {fragment!r}, found {len(found)}:\n" + self.describe()
        )
        return found[0]

    def rows_matching(self, fragment: str) -> list[Row]:
        return [row for row in self.rows if fragment in row.operation]

    def changed(self, fragment: str) -> frozenset[str]:
        """Hosts on which the operation `fragment` would change something, for certain."""
        return self.row(fragment).change

    def changes_anywhere(self, fragment: str) -> frozenset[str]:
        """Hosts on which it would, or might (a conditional change). A step that acts
        only after an earlier change (seedcore/changes.py) is not planned at all, so
        has no row, where the earlier steps change nothing: then no host; the name
        must still be one the deploy gives a step, so a misspelt one fails."""
        found = self.rows_matching(fragment)
        if not found:
            assert _named_in_deploy(fragment), f"no step of the deploy is named {fragment!r}"
            return frozenset()
        row = self.row(fragment)
        return row.change | row.conditional

    def describe(self) -> str:
        return f"$ {' '.join(self.args)}\n(exit code {self.code})\n{self.output}"


def _step_names() -> tuple[set[str], list[re.Pattern]]:
    """The deploy's string literals (seedcore/): plain ones, and f-strings as patterns
    whose replacement fields match any text."""
    plain, patterns = set(), []
    for path in (ROOT / "seedcore").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                plain.add(node.value)
            elif isinstance(node, ast.JoinedStr):
                parts = [re.escape(part.value) if isinstance(part, ast.Constant) else ".+"
                         for part in node.values]
                patterns.append(re.compile("".join(parts)))
    return plain, patterns


def _named_in_deploy(fragment: str) -> bool:
    """Whether `fragment` is part of a step's name the deploy gives, or a whole name
    the deploy builds with an f-string."""
    fragment = fragment.rstrip(" |")
    plain, patterns = _step_names()
    return any(fragment in text for text in plain) or any(pattern.fullmatch(fragment) for pattern in patterns)


def _environment() -> dict[str, str]:
    return {
        "PYINFRA_FAKE_DELAY": "0",
        "PYINFRA_FAKE_DELAY_JITTER": "0",
        "COLUMNS": "250",
        "NO_COLOR": "1",
    }


def run_cli_subprocess(inventory: Path, *extra: str, deploy: str = CLUSTER) -> Run:
    """`pyinfra INVENTORY DEPLOY EXTRA...` from the repository root, as its own process:
    the real command line, entry point and exit code."""
    args = [pyinfra_executable(), str(inventory), deploy, *extra]
    env = {**os.environ, **_environment()}
    try:
        done = subprocess.run(
            args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, timeout=RUN_TIMEOUT_S, check=False,
        )
    except subprocess.TimeoutExpired as error:
        partial = error.output.decode() if isinstance(error.output, bytes) else (error.output or "")
        raise AssertionError(f"{' '.join(args)} ran past {RUN_TIMEOUT_S}s:\n{partial}") from None
    return Run(args=["pyinfra", str(inventory), deploy, *extra], code=done.returncode, output=done.stdout)


def run_cli(inventory: Path, *extra: str, deploy: str = CLUSTER) -> Run:
    """`pyinfra INVENTORY DEPLOY EXTRA...` from the repository root, inside this process
    (pyinfra's own click command, as `pyinfra` runs it; tests/cli/inprocess.py)."""
    from tests.cli.inprocess import run_in_process

    args = [str(inventory), deploy, *extra]
    code, output = run_in_process(args, env=_environment(), cwd=ROOT, timeout_s=RUN_TIMEOUT_S)
    return Run(args=["pyinfra", *args], code=code, output=output)


class Deployment:
    """An inventory of fake hosts, written as an operator writes one, and the CLI run on it.

    Each host gets the image, a fixed `ray_node_ip`, instant fake commands and,
    unless told otherwise, the facts of a bare Debian 12 host. The checks run
    at the end of a deploy are pointed at this test's directory and given a
    short deadline, so a run that got that far would neither wait long nor
    write into the repository.
    """

    def __init__(self, directory: Path, filename: str = "inventory.py"):
        self.directory = Path(directory)
        self.path = self.directory / filename
        self.groups: dict[str, list[str]] = {}
        self.data: dict[str, dict] = {}

    # -- building the inventory ------------------------------------------

    def host(self, group: str, name: str, ip: str | None = None, facts: dict | None = None,
             **data) -> str:
        """Add `@fake/NAME` to `group` (again, for a second group: data and facts stay)."""
        full = f"@fake/{name}"
        if full not in self.data:
            values = {
                "ray_image": IMAGE,
                "fake_delay": 0,
                "fake_delay_jitter": 0,
                "verify_timeout_s": 1,
                "verify_report_path": str(self.directory / "verify.json"),
                # The cluster's CA and node certificates, in this test's directory.
                "tls_dir": str(self.directory / "tls"),
                "fake_responses": facts if facts is not None else responses.bare_debian12(),
            }
            if ip is not None:
                values["ray_node_ip"] = ip
            values.update(data)
            self.data[full] = {key: value for key, value in values.items() if value is not UNSET}
        elif data or facts is not None or ip is not None:
            raise ValueError(f"{full} is already in the inventory: give its data where it is first added")
        self.groups.setdefault(group, []).append(full)
        return full

    def head(self, name: str = "head-1", ip: str = HEAD_IP, **kwargs) -> str:
        return self.host("ray_head", name, ip, **kwargs)

    def worker(self, name: str = "worker-1", ip: str = WORKER_IPS[0], **kwargs) -> str:
        return self.host("ray_workers", name, ip, **kwargs)

    def gpu(self, full_name: str) -> str:
        """Also list an already added host in group `gpu`."""
        return self.host("gpu", full_name.removeprefix("@fake/"))

    def write(self) -> Path:
        lines = [
            '"""A test inventory: fake hosts whose commands answer from fake_responses."""',
            "",
            "import re  # noqa: F401  (fake_responses may use compiled patterns)",
            "",
        ]
        written: set[str] = set()
        for group, names in self.groups.items():
            entries = []
            for name in names:
                if name in written:
                    entries.append(f"    {name!r},")
                else:
                    entries.append(f"    ({name!r}, {self.data[name]!r}),")
                    written.add(name)
            lines += [f"{group} = [", *entries, "]", ""]
        self.path.write_text("\n".join(lines))
        return self.path

    # -- running the CLI -------------------------------------------------

    def run(self, *extra: str, deploy: str = CLUSTER) -> Run:
        return run_cli(self.write(), *extra, deploy=deploy)

    def dry(self, deploy: str = CLUSTER) -> Run:
        """`pyinfra INVENTORY deploy/cluster.py --dry`: what would change, nothing executed."""
        return self.run("--dry", deploy=deploy)


# -- refusals ------------------------------------------------------------------

REFUSAL = re.compile(r"(\d+) problems? found before any change; nothing was changed on any host:")


def head_and_two_workers(directory: Path, **data) -> Deployment:
    """The inventory most CLI tests run on, written: head-1 and worker-1, worker-2, each given `data`."""
    deployment = Deployment(directory)
    deployment.head(**data)
    deployment.worker("worker-1", WORKER_IPS[0], **data)
    deployment.worker("worker-2", WORKER_IPS[1], **data)
    deployment.write()
    return deployment


def problems(run: Run) -> list[str]:
    """The problem lines of a refusal: the indented lines after its header."""
    lines = run.output.splitlines()
    start = next((i for i, line in enumerate(lines) if REFUSAL.search(line)), None)
    assert start is not None, "the run did not refuse with the deploy's problem list:\n" + run.describe()
    found = []
    for line in lines[start + 1:]:
        if not line.startswith("  "):
            break
        found.append(line.strip())
    return found


def assert_refused(run: Run, inventory: Path) -> list[str]:
    """The run stopped before any operation, listing its problems; returns them.

    Nothing may have started: no change table (so no operation was even
    planned for a host) and no operation run.
    """
    assert run.code != 0, "the run was not refused:\n" + run.describe()
    assert not run.has_change_table, "operations were planned despite the problem:\n" + run.describe()
    assert not run.started_operations, "operations ran despite the problem:\n" + run.describe()
    lines = problems(run)
    assert lines, run.describe()
    return lines


def problem_line(lines: list[str], inventory: Path, *words: str) -> str:
    """The one problem line containing every word; it must start with the inventory file."""
    found = [line for line in lines if all(word in line for word in words)]
    assert len(found) == 1, f"expected one problem line with {words!r}, got:\n" + "\n".join(lines)
    line = found[0]
    assert line.startswith(f"{inventory}: "), f"the line does not name the inventory file:\n{line}"
    return line

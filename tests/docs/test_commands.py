"""The commands the README and docs/ give are ones that work here: every fenced shell block
of README.md and docs/*.md, line by line, checked as far as it can be without hosts: make
targets exist, the files and entry points named exist, pyinfra's flags are pyinfra's, `python
-m lab` subcommands and their flags exist, `python -m` modules exist, and the data keys given
with `--data` are keys of ours. The links between the pages lead somewhere."""

import importlib.util
import re
import shlex
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from seedcore.defaults import ALL_DEFAULTS

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL = {"sh", "shell", "bash", "console"}
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.M | re.S)
# Paths under these are the repository's own: a command that names one names a file that exists.
OURS = ("inventories/", "deploy/", "group_data/", "scripts/", "lab/", "bench/", "seedcore/", "tests/",
        "docs/")


INLINE = re.compile(r"`((?:make|pyinfra|python -m|\.venv/bin/\w+) [^`]+)`")


def shell_lines() -> list[tuple[str, str]]:
    """(page, command) for every command of every shell block (continuations joined, `&&`,
    `;` and `|` apart) and every inline `make ...`, `pyinfra ...` or `python -m ...` of the prose."""
    found = []
    for page in PAGES:
        text = page.read_text()
        lines = [span for span in INLINE.findall(FENCE.sub("", text))]
        for lang, body in FENCE.findall(text):
            if lang in SHELL:
                lines += body.replace("\\\n", " ").splitlines()
        for line in lines:
            for command in re.split(r"&&|\|\||;|\|", line.strip().removeprefix("$ ")):
                if command.strip() and not command.strip().startswith("#"):
                    found.append((page.name, command.strip()))
    return list(dict.fromkeys(found))


def words(line: str) -> list[str]:
    """The command's words, without its trailing comment, leading VAR=value assignments and
    a leading `sudo`."""
    tokens = shlex.split(line, comments=True)
    while tokens and (re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", tokens[0]) or tokens[0] == "sudo"):
        tokens.pop(0)
    return tokens


def placeholder(token: str) -> bool:
    """`<inventory>`, `[--hosts N]`, `INVENTORY`, `deploy/X.py`, `...`: a place to fill in."""
    return (any(mark in token for mark in "<>[]") or token in ("...", "-")
            or any(re.fullmatch(r"[A-Z]+(\.py)?", part) for part in token.split("/")))


@cache
def make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(), re.M))


@cache
def pyinfra_flags() -> set[str]:
    pyinfra = Path(sys.executable).with_name("pyinfra")
    text = subprocess.run([str(pyinfra), "--help"], capture_output=True, text=True, timeout=60).stdout
    return set(re.findall(r"(--?[a-z][a-z0-9-]*)", text))


def check_make(args: list[str]) -> list[str]:
    targets = [a for a in args if "=" not in a and not a.startswith("-")]
    return [f"no make target {t}" for t in targets if t not in make_targets()]


def check_files(args: list[str]) -> list[str]:
    named = [a.split("=", 1)[-1] for a in args if not placeholder(a)]
    return [f"no file {p}" for p in named if p.startswith(OURS) and not (ROOT / p.rstrip("/")).exists()]


def check_pyinfra(args: list[str]) -> list[str]:
    problems = []
    if "exec" in args:  # `pyinfra INVENTORY exec -- COMMAND`: what follows is the command's
        args = args[:args.index("exec")]
    for index, arg in enumerate(args):
        flag = arg.split("=", 1)[0]
        if arg.startswith("-") and flag not in pyinfra_flags():
            problems.append(f"pyinfra has no option {flag}")
        if arg == "--data" and index + 1 < len(args):
            key = args[index + 1].split("=", 1)[0]
            if not key.startswith(("_", "ssh_")) and key not in ALL_DEFAULTS:
                problems.append(f"--data {key}: no such data key")
    return problems + check_files(args)


def check_python_module(args: list[str]) -> list[str]:
    if len(args) < 2 or args[0] != "-m":
        return []
    module, rest = args[1], args[2:]
    if importlib.util.find_spec(module) is None:
        return [f"no module {module}"]
    if module == "lab":
        return check_lab(rest)
    return check_files(rest)


def check_lab(args: list[str]) -> list[str]:
    from lab.__main__ import _parser

    real = [a for a in args if not placeholder(a)]
    subcommands = _parser()._subparsers._group_actions[0].choices
    if not real or real[0] not in subcommands:
        return [f"python -m lab has no subcommand {real[:1]}"]
    flags = {option for action in subcommands[real[0]]._actions for option in action.option_strings}
    # Options given in the synopsis form `[--hosts N]` count too.
    given = [a.strip("[]") for a in args[1:] if a.strip("[]").startswith("-")]
    return [f"python -m lab {real[0]} has no option {f}" for f in given if f not in flags]


def problems_of(line: str) -> list[str]:
    tokens = words(line)
    if not tokens:
        return []
    command, args = Path(tokens[0]).name, tokens[1:]
    if command == "make":
        return check_make(args)
    if command == "pyinfra":
        return check_pyinfra(args)
    if command in ("python", "python3"):
        return check_python_module(args)
    return check_files(args)


@pytest.mark.parametrize("page,line", shell_lines(), ids=lambda v: v[:60] if isinstance(v, str) else v)
def test_each_command_of_the_docs_is_one_that_works_here(page, line):
    assert problems_of(line) == [], f"{page}: {line}"


def test_the_checks_catch_what_they_are_for():
    assert problems_of("make demoo") == ["no make target demoo"]
    assert problems_of("LAB=0 make test") == []
    assert problems_of("pyinfra inventories/prod.py deploy/cluster.py --dryy") == [
        "pyinfra has no option --dryy"]
    assert problems_of("pyinfra inventories/prod.py deploy/rolout.py") == ["no file deploy/rolout.py"]
    assert problems_of("pyinfra -y INVENTORY deploy/verify.py --data rollout_allow_unverifed=true") == [
        "--data rollout_allow_unverifed: no such data key"]
    assert problems_of("python -m lab upp") == ["python -m lab has no subcommand ['upp']"]
    assert problems_of("python -m lab up [--hostz N]") == ["python -m lab up has no option --hostz"]
    assert problems_of("python -m bench.nothing") == ["no module bench.nothing"]


def test_the_pages_give_commands_to_check():
    pages = {page for page, _ in shell_lines()}
    assert {"README.md", "lab.md", "rollout.md", "rebuild.md", "verify.md"} <= pages


# --------------------------------------------------------------------------- links

LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(page: Path) -> set[str]:
    """GitHub's anchors for the page's headings."""
    found = set()
    for heading in re.findall(r"^#+ (.*)$", FENCE.sub("", page.read_text()), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        found.add(slug)
    return found


def broken_links(page: Path) -> list[str]:
    broken = []
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(target)
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(target)
    return broken


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_link_leads_somewhere(page):
    assert broken_links(page) == []


def test_the_readme_fits_on_a_screen_or_two():
    assert len((ROOT / "README.md").read_bytes()) <= 12 * 1024


def test_the_readme_links_every_page_of_docs():
    readme = (ROOT / "README.md").read_text()
    linked = {Path(target.partition("#")[0]).name for target in LINK.findall(readme)}
    assert sorted(p.name for p in (ROOT / "docs").glob("*.md") if p.name not in linked) == []

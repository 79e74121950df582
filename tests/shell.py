"""What a shell command does, read from its text, so tests compare commands by
their effect and not their wording.

`effect(text)` parses a command line (shlex, as the shell splits words) into
its simple commands joined by `&&`, `||`, `;` and `|`, reads the body of a
`sh -c` / `bash -c` again the same way, and gives each simple command a
normalised form: its environment assignments and redirections as sets, and
for the tools the deploy drives, what the tool treats as order-free as a set
(`docker compose`'s files, profiles, options and services; `apt-get`'s
options and packages; the operands of `docker rm`, `mkdir -p`, `rm -f`).
Two commands with the same effect compare equal: `-p X -f F` and `-f F -p X`,
`'a'` and `a`. A dropped flag, another file or another verb do not.

A script with control flow (`for`, `if`, `while`, `$(...)`) is not read as
argv: its form is its text with runs of blanks made one. `calls` still sees
what such a script runs under a bound (`timeout -k K S sh -c BODY`, as
`seedcore.commands.bounded` writes it): BODY's commands.
"""

import re
import shlex
from dataclasses import dataclass

OPERATORS = frozenset({"&&", "||", ";", "|"})
REDIRECTIONS = frozenset({">", ">>", "<", ">&", "<&", "<<<", "&>", ">|"})
SCRIPT_WORDS = frozenset({"for", "while", "until", "if", "case", "function", "{", "(", "[[", "!"})


@dataclass(frozen=True)
class Simple:
    """One simple command: what it runs and with what, normalised."""

    env: frozenset[str]
    redirections: frozenset[str]
    call: tuple


@dataclass(frozen=True)
class Script:
    """A command with control flow, compared as text (blanks folded)."""

    text: str


def _tokens(text: str) -> list[str] | None:
    lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|<>()")
    lexer.whitespace_split = True
    try:
        return list(lexer)
    except ValueError:
        return None


def _is_script(text: str, tokens: list[str] | None) -> bool:
    if tokens is None or "$(" in text or "`" in text or "((" in text:
        return True
    starts = [0] + [i + 1 for i, token in enumerate(tokens) if token in OPERATORS]
    return any(i < len(tokens) and tokens[i] in SCRIPT_WORDS for i in starts) or "(" in tokens


def effect(text: str) -> tuple:
    """The normalised effect of a shell command line: a tuple of simple commands
    and the operators between them, or one Script."""
    text = text.strip()
    tokens = _tokens(text)
    if _is_script(text, tokens):
        return (Script(" ".join(text.split())),)
    steps: list = []
    current: list[str] = []
    for token in tokens:
        if token in OPERATORS:
            steps += [*_simple(current), token]
            current = []
        else:
            current.append(token)
    steps += _simple(current)
    return tuple(steps)


def _simple(words: list[str]) -> list:
    """A simple command's normal form (a `sh -c` body is read as its own commands)."""
    env, redirections, argv = [], [], []
    i = 0
    while i < len(words):
        word = words[i]
        if word in REDIRECTIONS and i + 1 < len(words):
            fd = argv.pop() if argv and argv[-1].isdigit() else ""
            redirections.append(f"{fd}{word}{words[i + 1]}")
            i += 2
            continue
        if not argv and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", word):
            env.append(word)
        else:
            argv.append(word)
        i += 1
    if len(argv) == 3 and argv[0] in ("sh", "bash", "/bin/sh", "/bin/bash") and argv[1] == "-c":
        return [*effect(argv[2])]
    return [Simple(frozenset(env), frozenset(redirections), _call(argv))]


def _call(argv: list[str]) -> tuple:
    if not argv:
        return ()
    tool = argv[0].rsplit("/", 1)[-1]
    if tool == "docker" and argv[1:2] == ["compose"]:
        return _compose("docker compose", argv[2:])
    if tool == "docker-compose":
        return _compose("docker-compose", argv[1:])
    if tool == "apt-get":
        return _apt_get(argv[1:])
    if tool == "docker" and argv[1:2] == ["rm"]:
        flags, operands = _split(argv[2:], takes_value=())
        return ("docker", "rm", flags, frozenset(operands))
    if tool in ("mkdir", "rm"):
        flags, operands = _split(argv[1:], takes_value=("-m", "--mode"))
        return (tool, flags, frozenset(operands))
    return tuple(argv)


def _split(args: list[str], takes_value: tuple[str, ...]) -> tuple[frozenset, list[str]]:
    """(options as a set, each with its value; operands in order). `--` ends options;
    a short-option cluster (`-rf`) counts as its letters."""
    options, operands = set(), []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            operands += args[i + 1:]
            break
        if arg in takes_value and i + 1 < len(args):
            options.add(f"{arg} {args[i + 1]}")
            i += 2
            continue
        if arg.startswith("--") or (arg.startswith("-") and len(arg) == 2):
            options.add(arg)
        elif arg.startswith("-") and len(arg) > 2 and arg[1:].isalpha():
            options.update(f"-{letter}" for letter in arg[1:])
        else:
            operands.append(arg)
        i += 1
    return frozenset(options), operands


# Compose's options before the verb; each takes a value.
COMPOSE_GLOBAL = ("-f", "--file", "-p", "--project-name", "--profile", "--project-directory", "--env-file")
# Options of the verbs the deploy runs that take a value.
COMPOSE_VERB_VALUES = ("-t", "--timeout", "--rmi", "--pull", "--wait-timeout", "--scale")


def _compose(cli: str, args: list[str]) -> tuple:
    files, profiles, project, other = set(), set(), None, set()
    i = 0
    while i < len(args) and args[i].startswith("-"):
        option = args[i]
        value = args[i + 1] if i + 1 < len(args) else None
        if option in ("-f", "--file"):
            files.add(value)
        elif option in ("-p", "--project-name"):
            project = value
        elif option == "--profile":
            profiles.add(value)
        elif option in COMPOSE_GLOBAL:
            other.add(f"{option} {value}")
        else:
            other.add(option)
            i += 1
            continue
        i += 2
    verb = args[i] if i < len(args) else None
    options, services = _split(args[i + 1:], takes_value=COMPOSE_VERB_VALUES)
    return ("compose", cli, project, frozenset(files), frozenset(profiles), frozenset(other), verb,
            options, frozenset(services))


APT_VALUES = ("-o", "-t", "--target-release", "-c")


def _apt_get(args: list[str]) -> tuple:
    options, rest = _split(args, takes_value=APT_VALUES)
    verb, packages = (rest[0], rest[1:]) if rest else (None, [])
    return ("apt-get", verb, options, frozenset(packages))


def same_effect(actual: str, expected: str) -> bool:
    return effect(actual) == effect(expected)


def argv(text: str) -> list[list[str]]:
    """The simple commands of a command line as argv lists (no normalisation;
    a script is one entry holding its text)."""
    tokens = _tokens(text.strip())
    if _is_script(text, tokens):
        return [[text.strip()]]
    found: list[list[str]] = [[]]
    for token in tokens:
        if token in OPERATORS:
            found.append([])
        else:
            found[-1].append(token)
    return found


def stated(item: str | list) -> tuple:
    """The effect of a command as a fixture states it: a command line (a command fed
    on stdin ends with ` <<< ` and the text it receives), or a list of argv lists
    run one after another with `&&`."""
    if isinstance(item, list):
        return (effect(" && ".join(shlex.join(words) for words in item)), None)
    text, _, stdin = item.partition(" <<< ")
    return (effect(text), stdin if " <<< " in item else None)


def assert_same_commands(actual: list[str], expected: list) -> None:
    """The commands run (as the harness shows them) do what the fixture states, in order."""
    if [stated(text) for text in actual] != [stated(item) for item in expected]:
        raise AssertionError(
            "the commands do not do what the fixture states:\n  ran:\n    "
            + "\n    ".join(actual) + "\n  stated:\n    "
            + "\n    ".join(item if isinstance(item, str) else " && ".join(map(shlex.join, item))
                            for item in expected))


BOUNDED = re.compile(r"\btimeout -k \d+ \d+ sh -c ")


def bounded_bodies(text: str) -> list[str]:
    """The command lines a script runs under `timeout -k K S sh -c BODY`."""
    bodies = []
    for match in BOUNDED.finditer(text):
        lexer = shlex.shlex(text[match.end():], posix=True, punctuation_chars=";&|<>()")
        lexer.whitespace_split = True
        body = next(iter(lexer), None)
        if body:
            bodies.append(body)
    return bodies


def calls(texts: list[str]) -> list[tuple]:
    """Every simple command these command lines run, normalised; of a script, the
    commands it runs under a bound (its other steps are left out)."""
    found = []
    for text in texts:
        for step in effect(text):
            if isinstance(step, Simple):
                found.append(step.call)
            elif isinstance(step, Script):
                found += calls(bounded_bodies(step.text))
    return found


def compose_clis(texts: list[str]) -> set[str]:
    """The Compose command lines (`docker compose`, `docker-compose`) these commands call."""
    return {call[1] for call in calls(texts) if call[:1] == ("compose",)}


def call_of(words: list[str]) -> tuple:
    """The normal form of one argv as a program receives it (no shell between)."""
    return _call(list(words))


def apt_installs(texts: list[str]) -> list[tuple[frozenset, frozenset]]:
    """(options, packages) of each `apt-get install` these command lines run,
    whatever the order of apt's options."""
    return [(call[2], call[3]) for call in calls(texts) if call[:2] == ("apt-get", "install")]


def installs(texts: list[str], *packages: str, options: tuple[str, ...] = ()) -> bool:
    """Whether one `apt-get install` installs exactly `packages`, with at least `options`."""
    return any(found == frozenset(packages) and set(options) <= given for given, found in apt_installs(texts))

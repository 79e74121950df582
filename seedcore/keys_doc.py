"""docs/data-keys.md, written from seedcore/defaults.py: every key under its prefix's
heading, with its default, its rule (the range, the closed set or the safe set
validation holds it to) and its meaning, the comment right above the key.

    python -m seedcore.keys_doc            # writes docs/data-keys.md (`make docs`)
    python -m seedcore.keys_doc --check    # exit 1 when the file is not what this writes

A key without a comment of its own is an error: adding a key means writing what it does.
"""

import ast
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from seedcore import defaults

SOURCE = Path(defaults.__file__)
TARGET = Path(__file__).resolve().parents[1] / "docs" / "data-keys.md"

PREAMBLE = """\
# Data keys

<!-- Written by `make docs` (python -m seedcore.keys_doc) from seedcore/defaults.py: edit the
comments there, not this file. tests/docs/test_data_keys.py fails when the two differ. -->

Every key has a default in `seedcore/defaults.py`; *(must be set)* keys stop the run early
with the host and key named. Set a key in `group_data/<inventory>.py` (shared), in
`group_data/all.py` (every inventory) or in a host's inventory tuple (that host only); pyinfra's
`--data KEY=VALUE` sets it for one run. Keys of ours that are not listed here are refused as
likely typos, with the closest known key suggested. Every rule below is checked before any host
changes (see [troubleshooting](troubleshooting.md)).
"""


@dataclass(frozen=True)
class Key:
    name: str
    meaning: str


@dataclass(frozen=True)
class Section:
    prefix: str
    intro: str
    keys: tuple[Key, ...]


def _comment_above(lines: list[str], lineno: int) -> list[str]:
    """The comment lines right above line `lineno` (1-based), top first, without `#`."""
    found = []
    index = lineno - 2
    while index >= 0 and lines[index].strip().startswith("#"):
        found.append(lines[index].strip().lstrip("#").strip())
        index -= 1
    return [line for line in reversed(found) if not set(line) <= {"-"}]


def sections(source: str | None = None) -> list[Section]:
    """Each `*_DEFAULTS = {...}` of defaults.py but ALL_DEFAULTS, in file order."""
    text = SOURCE.read_text() if source is None else source
    lines = text.splitlines()
    found = []
    for node in ast.parse(text).body:
        if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict)):
            continue
        name = getattr(node.targets[0], "id", "")
        if not name.endswith("_DEFAULTS") or None in node.value.keys:
            continue
        keys = []
        for key_node in node.value.keys:
            key = ast.literal_eval(key_node)
            comment = " ".join(_comment_above(lines, key_node.lineno))
            if not comment:
                raise ValueError(f"{SOURCE.name} line {key_node.lineno}: key {key} has no comment "
                                 "right above it saying what it does")
            keys.append(Key(key, comment))
        banner = " ".join(_comment_above(lines, node.lineno))
        prefix = keys[0].name.split("_", 1)[0] + "_"
        intro = banner.removeprefix(f"{prefix}:").strip()
        found.append(Section(prefix, intro[:1].upper() + intro[1:], tuple(keys)))
    return found


def default_text(value) -> str:
    return "*(must be set)*" if value is None else f"`{json.dumps(value)}`"


def rule_text(key: str) -> str:
    """What validation holds the key to, in words; "" for a key without a rule of that kind."""
    if key in defaults.RANGES:
        low, high, _ = defaults.RANGES[key]
        return f"{low}-{high}" if high is not None else f"{low} or more"
    if key in defaults.CHOICES:
        return "one of " + ", ".join(f"`{json.dumps(value)}`" for value in defaults.CHOICES[key])
    if key in defaults.PATTERNS:
        words = defaults.PATTERNS[key][1]
        return "".join(f"\\{c}" if c in "_*[]" else c for c in words)
    return ""


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render(source: str | None = None) -> str:
    out = [PREAMBLE]
    for section in sections(source):
        out += [f"## {section.prefix}", ""]
        if section.intro:
            out += [section.intro, ""]
        out += ["| Key | Default | Rule | Meaning |", "|---|---|---|---|"]
        for key in section.keys:
            cells = [f"`{key.name}`", default_text(defaults.ALL_DEFAULTS[key.name]),
                     rule_text(key.name), key.meaning]
            out.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
        out.append("")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if TARGET.read_text() != text:
            print(f"{TARGET} is not what seedcore/defaults.py gives: run `make docs`", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text)
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

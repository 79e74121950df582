"""What `--diff` shows of a file that may hold secrets (the compose file, the env
file): the lines as they are and would be, every secret value masked.

The host never sends a secret back: its file is read through `masked_read`,
which prints each line as it is except a variable's entry whose name is a
secret's (ray_secret_env's names, the GCS store password's) or looks like one
(PASSWORD, TOKEN, ...): that entry comes back as its name and the SHA-256 of its
text, so the diff can tell an unchanged secret from a changed one without
seeing either (the host's whole-file digest, which the deploy already reads, says
no less). The render is masked the same way here, and every line of both is
then masked by the secret values themselves, in each form a file may hold them.

An entry is a line `NAME=value` or `NAME: value` (any indentation; NAME letters,
digits, `_`, `.` or `-`) with the lines after it indented deeper (YAML folds a
long value onto those).
"""

import difflib
import hashlib
import json
import os
import re
import shlex
from dataclasses import dataclass

from seedcore.commands import GCS_STORE_PASSWORD_VAR

# How the host marks a masked entry: MASKED, the entry's text up to its separator, a tab, its SHA-256.
MASKED = "### seedcore-masked "
# How the host says the file is not there.
MISSING = "### seedcore-no-such-file"
# Names that look like a secret's: their values are masked whatever the data says.
SECRET_WORDS = ("PASSWORD", "PASSWD", "SECRET", "TOKEN", "CREDENTIAL", "PRIVATE")
_NAME = re.compile(r"[A-Za-z0-9_.-]+")


def looks_secret(name: str) -> bool:
    return any(word in name or word.lower() in name for word in SECRET_WORDS)


@dataclass(frozen=True)
class Masks:
    """The secrets a file may hold: by variable name (name -> what names its value,
    e.g. "ray_secret_env.REDIS_PASSWORD") and by value (value -> the same)."""

    keys: dict[str, str]
    values: dict[str, str]

    def hides(self, name: str) -> bool:
        return name in self.keys or looks_secret(name)

    def label(self, name: str) -> str:
        return self.keys.get(name, f"{name}, hidden by its name")


def node_masks(node, environ=os.environ) -> Masks:
    """The secrets of `node`'s compose and env files: ray_secret_env's, the GCS
    store's password (on the head), and the value of every `*_password_env`."""
    keys = {name: f"ray_secret_env.{name}" for name in node.secret_env}
    values = {value: f"ray_secret_env.{name}" for name, value in node.secret_env.items()}
    for key, variable in sorted(node.settings.items()):
        if key.endswith("_password_env") and isinstance(variable, str) and environ.get(variable):
            values.setdefault(environ[variable], key)
    if node.gcs_store and node.role == "head":
        keys[GCS_STORE_PASSWORD_VAR] = "ray_gcs_store_password_env"
        if node.gcs_store_password:
            values[node.gcs_store_password] = "ray_gcs_store_password_env"
    return Masks(keys, {value: label for value, label in values.items() if value})


def masked_read(path: str, keys) -> str:
    """The host's command printing `path` with the entries of `keys` (and of names
    that look secret) masked: MASKED, the entry's text up to its separator, a tab,
    the SHA-256 of the entry's text. MISSING when there is no such file. The secret
    never leaves the shell: printf is a builtin, and the line goes to sha256sum's stdin."""
    patterns = [shlex.quote(key) for key in sorted(keys)]
    patterns += [f"*{word}*|*{word.lower()}*" for word in SECRET_WORDS]
    flush = (f'if [ -n "$h" ]; then printf \'{MASKED}%s\\t%s\\n\' "$h" '
             '"$(printf \'%s\' "$e" | sha256sum | cut -c1-64)"; h=; fi;')
    return (
        f"p={shlex.quote(path)}; if [ ! -e \"$p\" ]; then echo {shlex.quote(MISSING)}; exit 0; fi; "
        "h=; e=; n=0; nl=$(printf '\\n.'); nl=${nl%.}; "
        "while IFS= read -r l || [ -n \"$l\" ]; do "
        "i=${l%%[![:space:]]*}; r=${l#\"$i\"}; "
        'if [ -n "$h" ] && [ -n "$r" ] && [ "${#i}" -gt "$n" ]; then e="$e$nl$l"; continue; fi; '
        f"{flush} "
        "k=${r%%[:=]*}; "
        'if [ "$k" != "$r" ] && [ -n "$k" ]; then case $k in *[!A-Za-z0-9_.-]*) ;; '
        f"{'|'.join(patterns)}) "
        'h=${l%"${r#*[:=]}"}; n=${#i}; e=$l; continue;; esac; fi; '
        "printf '%s\\n' \"$l\"; "
        f'done < "$p"; {flush}'
    )


@dataclass(frozen=True)
class Line:
    """A line of a file as the diff shows it: `text` for a plain line; for a masked
    entry, `prefix` (its text up to the separator), `name` and `digest`."""

    text: str = ""
    prefix: str = ""
    name: str = ""
    digest: str = ""


def _name_of(line: str) -> str | None:
    rest = line.lstrip()
    match = re.match(r"([^:=]*)[:=]", rest)
    if not match or not _NAME.fullmatch(match.group(1)):
        return None
    return match.group(1)


def _lines(text: str) -> list[str]:
    """The lines of `text`, split at newlines only (as the files and the host's output are)."""
    return text.removesuffix("\n").split("\n") if text else []


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def rendered_lines(text: str, masks: Masks) -> list[Line]:
    """The render's lines, entries masked as `masked_read` masks them on the host."""
    out: list[Line] = []
    entry: list[str] = []
    prefix, name, depth = "", "", 0

    def flush():
        if entry:
            out.append(Line(prefix=prefix, name=name, digest=_digest("\n".join(entry))))
            entry.clear()

    for line in _lines(text):
        indent = len(line) - len(line.lstrip())
        if entry and line.strip() and indent > depth:
            entry.append(line)
            continue
        flush()
        found = _name_of(line)
        if found is not None and masks.hides(found):
            separator = re.search(r"[:=]", line).end()
            prefix, name, depth = line[:separator], found, indent
            entry.append(line)
            continue
        out.append(Line(text=line))
    flush()
    return out


def host_lines(text: str | None) -> list[Line]:
    """The host's file as `masked_read` printed it ([] when it is missing)."""
    if text is None or text.strip() == MISSING:
        return []
    out = []
    for line in _lines(text):
        if line.startswith(MASKED):
            prefix, _, digest = line.removeprefix(MASKED).rpartition("\t")
            out.append(Line(prefix=prefix, name=_name_of(prefix + " ") or prefix.strip(), digest=digest))
        else:
            out.append(Line(text=line))
    return out


def _value_forms(value: str) -> list[str]:
    """The forms a value takes in the files: as is, Compose's `$$`, YAML's double-quoted escapes."""
    forms = {value, value.replace("$", "$$")}
    forms |= {json.dumps(form)[1:-1] for form in list(forms)}
    return sorted(forms, key=len, reverse=True)


def _by_value(line: str, masks: Masks) -> str:
    for value, label in sorted(masks.values.items(), key=lambda item: len(item[0]), reverse=True):
        for form in _value_forms(value):
            line = line.replace(form, f"<secret: {label}>")
    return line


def _shown(lines: list[Line], other: dict[str, str], masks: Masks, side: str) -> list[str]:
    out = []
    for line in lines:
        if not line.prefix:
            out.append(_by_value(line.text, masks))
            continue
        label = masks.label(line.name)
        if line.name in other and other[line.name] != line.digest:
            label += f", {side} value"
        space = " " if line.prefix.endswith(":") else ""
        out.append(f"{line.prefix}{space}<secret: {label}>")
    return out


def masked_diff(host_text: str | None, text: str, masks: Masks) -> list[str]:
    """The diff from the host's file, as `masked_read` printed it, to `text`, every
    secret masked, as pyinfra's --diff writes one (`@@` ranges, then "  ", "- " or
    "+ " before each line); [] when they do not differ."""
    old, new = host_lines(host_text), rendered_lines(text, masks)
    old_digests = {line.name: line.digest for line in old if line.prefix}
    new_digests = {line.name: line.digest for line in new if line.prefix}
    before = _shown(old, new_digests, masks, "old")
    after = _shown(new, old_digests, masks, "new")
    lines = list(difflib.unified_diff(before, after, lineterm="", n=2))[2:]
    return [line if line.startswith("@@") else f"{line[0]} {line[1:]}" for line in lines]

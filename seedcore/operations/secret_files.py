"""Files that may hold secrets, written so that only root can read them at
every moment, and whose content never reaches pyinfra's output.

pyinfra's ``files.put`` under ``_sudo`` uploads to a temporary file with the
SSH user's default mode (readable by other local users), copies it, and only
then sets the mode; with ``--diff`` it prints the content. Here the text goes
to one root command through its stdin (base64, so any byte survives): it is
written beside the destination under umask 077, given its owner and mode,
and renamed over the destination in one step. One SSH round trip per file,
and the text is never on a command line, in a temporary file of the SSH
user's, or in pyinfra's output.

Given its secrets (`masks`), such a file is shown under `--diff` all the same:
what is on the host (read masked there, seedcore/masking.py) against the
render, every secret value masked.
"""

import base64
import hashlib

from pyinfra import host, logger
from pyinfra.api import operation
from pyinfra.api.command import StringCommand
from pyinfra.facts.files import File, Sha256File

from seedcore import commands
from seedcore.facts.host import MaskedFileText
from seedcore.hostfacts import read_fact
from seedcore.masking import Masks, masked_diff

ROOT_ONLY_MODE = 600  # as pyinfra's File fact reports a mode
GROUP_READ_MODE = 640  # the same, for a file a service's group reads


def stdin_of(text: str) -> str:
    """`text` as the commands of ``commands.file_from_stdin`` read it on stdin."""
    return base64.b64encode(text.encode()).decode()


def with_stdin(command: str, text: str) -> StringCommand:
    """`command`, given `text` (base64) on its stdin."""
    return StringCommand(command, _stdin=stdin_of(text))


def written_root_only(text: str, dest: str, group: str = "root"):
    """The command that puts `text` at `dest`, root-owned and 0600 at every moment."""
    yield with_stdin(commands.root_only_from_stdin(dest, group), text)


def is_current(text: str, digest: str | None, stat: dict | bool | None, group: str = "root") -> bool:
    """Whether the file on the host already has this text, root's ownership and
    mode 0600 (0640 with another group)."""
    return bool(
        stat
        and digest == hashlib.sha256(text.encode()).hexdigest()
        and stat.get("user") == "root"
        and stat.get("group") == group
        and stat.get("mode") == (ROOT_ONLY_MODE if group == "root" else GROUP_READ_MODE)
    )


def shown_read(dest: str, masks: Masks) -> list:
    """The fact `--diff` reads a root-only file through, as a [Fact, kwargs] pair."""
    return [MaskedFileText, {"path": dest, "keys": sorted(masks.keys)}]


def show_diff(dest: str, masks: Masks, text: str) -> None:
    """Log, as pyinfra's --diff does for files.put, how `dest` would change, secrets masked."""
    cls, kwargs = shown_read(dest, masks)
    on_host = read_fact(host, cls, **kwargs)
    host.log(f"Will {'create' if on_host is None else 'modify'} {dest} (secrets masked)", logger.info)
    for line in masked_diff(on_host, text, masks):
        logger.info("  %s", line)
    logger.info("")


@operation()
def root_only_file(text: str, dest: str, group: str = "root", masks: Masks | None = None):
    """
    Write ``text`` to ``dest``, owned by root:root with mode 0600 (root:group,
    0640, when a service running as ``group`` must read it), unless it
    already is. The text is compared by its SHA-256 digest, never shown
    (``--diff`` included), and never readable by another user on the host,
    not even while it is being written.

    + text: the file's content
    + dest: the file on the host
    + group: the file's group ("root"; or a service's group, which may read it)
    + masks: the secrets the file may hold; given, ``--diff`` shows how the file
      would change with each of them masked (not given: nothing is shown)

    **Example:**

    .. code:: python

        secret_files.root_only_file(name="Write the Ray env file (root only: it may hold secrets)",
                                    text=render.env_file(node), dest="/opt/seedcore/ray.env")
    """
    if is_current(text, read_fact(host, Sha256File, path=dest), read_fact(host, File, path=dest), group):
        host.noop(f"{dest} is up to date (root only)" if group == "root" else
                  f"{dest} is up to date (root and {group} only)")
        return
    if masks is not None and host.state.config.DIFF:
        show_diff(dest, masks, text)
    yield from written_root_only(text, dest, group)

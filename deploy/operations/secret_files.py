"""Files that may hold secrets, written so that only root can read them at
every moment, and whose content never reaches pyinfra's output.

pyinfra's ``files.put`` under ``_sudo`` uploads to a temporary file with the
SSH user's default mode (readable by other local users), copies it, and only
then sets the mode; with ``--diff`` it prints the content. Here the text is
uploaded as the SSH user into a fresh directory only that user can enter,
then copied beside the destination by root under umask 077, given its owner
and mode, and renamed over the destination in one step.
"""

import hashlib
import os
import secrets
from io import StringIO

from pyinfra import host
from pyinfra.api import operation
from pyinfra.api.command import FileUploadCommand, StringCommand
from pyinfra.facts.files import File, Sha256File

from deploy import commands
from deploy.hostfacts import read_fact

ROOT_ONLY_MODE = 600  # as pyinfra's File fact reports a mode
GROUP_READ_MODE = 640  # the same, for a file a service's group reads


def private_dir_name() -> str:
    """A fresh, unguessable directory under the SSH user's temporary directory
    (pyinfra's ``TEMP_DIR`` / ``_temp_dir``), named on the control machine."""
    temp_dir = None
    if getattr(host, "current_op_global_arguments", None):
        temp_dir = host.current_op_global_arguments.get("_temp_dir")
    if not temp_dir and hasattr(host, "get_temp_dir_config"):
        temp_dir = host.get_temp_dir_config()
    return f"{temp_dir or '/tmp'}/seedcore-{secrets.token_hex(16)}"


def upload(text: str, dest: str, installed):
    """The commands that put `text` at `dest` through a private directory.

    The first two run as the SSH user (no sudo): a 0700 directory of its own,
    then the SFTP upload into it. The last, ``installed(staged, private_dir)``,
    runs with the operation's sudo.
    """
    private_dir = private_dir_name()
    staged = f"{private_dir}/{os.path.basename(dest)}"
    yield StringCommand(commands.private_dir_created(private_dir), _sudo=False)
    yield FileUploadCommand(StringIO(text), staged, _sudo=False)
    yield installed(staged, private_dir)


def upload_root_only(text: str, dest: str, group: str = "root"):
    """The commands that put `text` at `dest`, root-owned and 0600 at every moment."""
    yield from upload(text, dest, lambda staged, private_dir: commands.root_only_installed(
        staged, dest, private_dir, group))


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


@operation()
def root_only_file(text: str, dest: str, group: str = "root"):
    """
    Write ``text`` to ``dest``, owned by root:root with mode 0600 (root:group,
    0640, when a service running as ``group`` must read it), unless it
    already is. The text is compared by its SHA-256 digest, never shown
    (``--diff`` included), and never readable by another user on the host,
    not even while it is being written.

    + text: the file's content
    + dest: the file on the host
    + group: the file's group ("root"; or a service's group, which may read it)

    **Example:**

    .. code:: python

        secret_files.root_only_file(name="Write the Ray env file (root only: it may hold secrets)",
                                    text=render.env_file(node), dest="/opt/seedcore/ray.env")
    """
    if is_current(text, read_fact(host, Sha256File, path=dest), read_fact(host, File, path=dest), group):
        host.noop(f"{dest} is up to date (root only)" if group == "root" else
                  f"{dest} is up to date (root and {group} only)")
        return
    yield from upload_root_only(text, dest, group)

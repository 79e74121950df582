"""The node's compose file, env file and Serve files, rendered on its host."""

from io import StringIO

from pyinfra.api import deploy
from pyinfra.facts.files import Directory
from pyinfra.operations import files

from seedcore import render
from seedcore.defaults import RAY_DEFAULTS, SERVE_DEFAULTS, TLS_DEFAULTS
from seedcore.hostfacts import file_reads, root_only_reads
from seedcore.masking import node_masks
from seedcore.operations import secret_files
from seedcore.topology import Node


def serve_files(node: Node) -> list[str]:
    """The Serve files written on the node's host (the route check and config on the head only)."""
    return [file.path for file in render.project_files(node, "") if not file.secret]


def tls_files(node: Node) -> list[str]:
    """The TLS files written on the node's host (none while TLS is off)."""
    return render.tls_files(node.settings) if node.tls is not None else []


def render_reads(node: Node) -> list:
    """The facts the project's directories, Serve files and TLS files are decided with."""
    project_dir = node.settings["ray_project_dir"]
    tls_dir = [[Directory, {"path": node.settings["tls_host_dir"]}]] if node.tls is not None else []
    return [[Directory, {"path": project_dir}], [Directory, {"path": f"{project_dir}/{render.SERVE_DIR}"}],
            *tls_dir,
            *[read for path in serve_files(node) + tls_files(node) for read in (
                root_only_reads(path) if path == render.tls_paths(node.settings)["key"]
                else file_reads(path))]]


def diff_reads(node: Node, config_hash: str = "") -> list:
    """What `--diff` reads of the node's root-only project files (env, compose): each masked on the host."""
    masks = node_masks(node)
    return [secret_files.shown_read(file.path, masks) for file in render.project_files(node, config_hash)
            if file.secret]


def _put(name: str, text: str, dest: str, mode: str):
    return files.put(name=name, src=StringIO(text), dest=dest, mode=mode, user="root", group="root")


def write_tls_files(node: Node) -> None:
    """The CA certificate and the node's certificate (0644) and key (root only,
    never shown), in a root-only directory the Ray container mounts read-only.
    Ray runs as root in the container. A renewed certificate keeps the node's
    key, so a Ray worker process starting between the two writes still finds a
    pair that matches; the running processes keep what they read at start."""
    if node.tls is None:
        return
    paths = render.tls_paths(node.settings)
    files.directory(name=f"Create the TLS directory {node.settings['tls_host_dir']} (root only)",
                    path=node.settings["tls_host_dir"], mode="0700", user="root", group="root")
    _put("Write the cluster's CA certificate", node.tls.ca_cert, paths["ca"], "0644")
    secret_files.root_only_file(name="Write the node's TLS key (root only, never shown)",
                                text=node.tls.key, dest=paths["key"])
    _put("Write the node's TLS certificate", node.tls.cert, paths["cert"], "0644")


@deploy("Render the compose files and env", data_defaults={**RAY_DEFAULTS, **SERVE_DEFAULTS, **TLS_DEFAULTS})
def render_project(node: Node, config_hash: str):
    project_dir = node.settings["ray_project_dir"]
    files.directory(name=f"Create the project directory {project_dir}", path=project_dir,
                    mode="0755", user="root", group="root")
    files.directory(name="Create the Serve directory", path=f"{project_dir}/{render.SERVE_DIR}",
                    mode="0755", user="root", group="root")
    write_tls_files(node)
    masks = node_masks(node)
    for file in render.project_files(node, config_hash):
        if file.secret:
            secret_files.root_only_file(name=f"Write {file.what} (root only: it may hold secrets)",
                                        text=file.text, dest=file.path, masks=masks)
        else:
            _put(f"Write {file.what}", file.text, file.path, file.mode)

"""The node's compose file, env file and Serve files, rendered on its host."""

from io import StringIO

from pyinfra.api import deploy
from pyinfra.facts.files import Directory
from pyinfra.operations import files

from seedcore import render
from seedcore.defaults import RAY_DEFAULTS, SERVE_DEFAULTS, TLS_DEFAULTS
from seedcore.hostfacts import file_reads, root_only_reads
from seedcore.operations import secret_files
from seedcore.topology import Node


def serve_files(node: Node) -> list[str]:
    """The Serve files written on the node's host (the route check and config on the head only)."""
    serve_dir = f"{node.settings['ray_project_dir']}/{render.SERVE_DIR}"
    names = [render.HEALTH_APP] + ([render.ROUTE_CHECK, render.SERVE_CONFIG] if node.role == "head" else [])
    return [f"{serve_dir}/{name}" for name in names]


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
    serve_dir = f"{project_dir}/{render.SERVE_DIR}"
    files.directory(name=f"Create the project directory {project_dir}", path=project_dir,
                    mode="0755", user="root", group="root")
    files.directory(name="Create the Serve directory", path=serve_dir,
                    mode="0755", user="root", group="root")
    secret_files.root_only_file(name="Write the Ray env file (root only: it may hold secrets)",
                                text=render.env_file(node), dest=f"{project_dir}/{render.ENV_FILE}")
    write_tls_files(node)
    secret_files.root_only_file(name="Write the node's compose file (root only: it may hold secrets)",
                                text=render.compose_file(node, config_hash),
                                dest=f"{project_dir}/{node.compose_file}")
    _put("Write the Serve health application",
         render.health_app_source(), f"{serve_dir}/{render.HEALTH_APP}", "0644")
    if node.role == "head":
        _put("Write the Serve route check", render.route_check_source(),
             f"{serve_dir}/{render.ROUTE_CHECK}", "0644")
        _put("Write the Serve config", render.serve_config(node.settings, node.cluster_size),
             f"{serve_dir}/{render.SERVE_CONFIG}", "0644")

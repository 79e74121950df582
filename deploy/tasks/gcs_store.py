"""The GCS store for head fault tolerance: the distribution's redis-server on
the host in group ray_gcs_store, bound to its private address, password from
the control machine's environment, persistence on; restarted only when its
config changed."""

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.deb import DebPackages
from pyinfra.operations.util import any_changed

from deploy import render
from deploy.defaults import RAY_DEFAULTS
from deploy.operations import secret_files, system
from deploy.topology import gcs_store_password, node_address, settings_for

STORE_PACKAGES = ["redis-server", "iproute2"]


def store_reads() -> list:
    """The facts the store's steps decide with (preflight bundles them)."""
    return [[DebPackages, {}], *system.file_reads(render.REDIS_CONF), *system.service_reads("redis-server")]


@deploy("Install the GCS store (Redis)", data_defaults=RAY_DEFAULTS)
def install_gcs_store():
    settings = settings_for(host)
    # iproute2: preflight names the holder of the Redis port with its `ss`.
    installed = system.packages(name="Install redis-server and iproute2",
                                packages=STORE_PACKAGES, update=True)
    config = secret_files.root_only_file(
        name="Write the Redis config (root and redis only: it holds the password)",
        text=render.redis_conf(node_address(host), settings["ray_gcs_store_port"], gcs_store_password(host)),
        dest=render.REDIS_CONF, group="redis",
    )
    system.service(name="Enable and start Redis", service="redis-server")
    system.service(name="Restart Redis because its config or package changed", service="redis-server",
                   restarted=True, _if=any_changed(installed, config))

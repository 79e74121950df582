"""The GCS store for head fault tolerance: the distribution's Redis on
the host in group ray_gcs_store, bound to its private address, password from
the control machine's environment, persistence on, TLS only while the
cluster's tls_enabled is on; restarted only when its config, certificate or
package changed."""

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.files import Directory
from pyinfra.operations import files, systemd

from seedcore import render
from seedcore.changes import after_change
from seedcore.defaults import RAY_DEFAULTS, TLS_DEFAULTS
from seedcore.families import family_of, layouts, package_reads
from seedcore.hostfacts import root_only_reads, service_reads
from seedcore.operations import secret_files
from seedcore.pki import TlsFiles
from seedcore.topology import gcs_store_password, node_address, settings_for, store_tls


def store_reads(settings: dict, tls: bool) -> list:
    """The facts the store's steps decide with (preflight bundles them)."""
    reads = [*package_reads(), *[read for layout in layouts() for read in (
        *root_only_reads(layout.store_config), *service_reads(layout.store_service))]]
    if tls:
        reads += [[Directory, {"path": settings["tls_host_dir"]}],
                  *[read for path in render.tls_files(settings) for read in root_only_reads(path)]]
    return reads


def write_store_tls_files(settings: dict, tls: TlsFiles, group: str) -> list:
    """The store's CA certificate, certificate and key in tls_host_dir, readable
    by root and Redis' `group` only; the operations, to restart Redis on a change."""
    paths = render.tls_paths(settings)
    files.directory(name=f"Create the TLS directory {settings['tls_host_dir']} (root and redis only)",
                    path=settings["tls_host_dir"], mode="0750", user="root", group=group)
    return [
        secret_files.root_only_file(name=f"Write the store's {label} (root and redis only)",
                                    text=text, dest=paths[key], group=group)
        for label, text, key in (("CA certificate", tls.ca_cert, "ca"),
                                 ("TLS certificate", tls.cert, "cert"),
                                 ("TLS key", tls.key, "key"))
    ]


@deploy("Install the GCS store (Redis)", data_defaults={**RAY_DEFAULTS, **TLS_DEFAULTS})
def install_gcs_store(inventory):
    settings = settings_for(host)
    tls = store_tls(host, inventory)
    family = family_of(host)
    layout = family.layout
    installed = family.install_packages(name="Install Redis (and ss, which preflight reads ports with)",
                                        packages=list(layout.store_packages), update=True)
    # After the package: its `redis` group owns the TLS files.
    tls_files = write_store_tls_files(settings, tls, layout.store_group) if tls is not None else []
    config = secret_files.root_only_file(
        name="Write the Redis config (root and redis only: it holds the password)",
        text=render.redis_conf(node_address(host), settings["ray_gcs_store_port"], gcs_store_password(host),
                               render.tls_paths(settings) if tls is not None else None),
        dest=layout.store_config, group=layout.store_group,
    )
    systemd.service(name="Enable and start Redis", service=layout.store_service, running=True, enabled=True)
    if changed := after_change(installed, config, *tls_files):
        systemd.service(name="Restart Redis because its config, certificate or package changed",
                        service=layout.store_service, restarted=True, _if=changed)

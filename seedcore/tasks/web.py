"""The web door on the head and the monitoring host: nginx from the
distribution's packages, its own site file (the distribution's default site
on port 80 removed, where its family's package has one), the door's certificate and key and the password file.
nginx is reloaded only when one of these changed and restarted only when its
package was just installed (it then runs the distribution's default site)
(seedcore/changes.py: --dry on a converged host lists neither). Verify's door
checks live here too: 401 without the password, 200 with it."""

import os
from io import StringIO

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.files import Directory, File
from pyinfra.operations import files, server, systemd

from seedcore import checks, web
from seedcore.changes import after_change
from seedcore.defaults import WEB_DEFAULTS
from seedcore.facts.host import ListeningPorts, port_holder_problem
from seedcore.families import family_of, layouts, package_reads
from seedcore.hostfacts import file_reads, read_fact, root_only_reads, service_reads
from seedcore.operations import secret_files
from seedcore.reach import Reach
from seedcore.tasks.firewall import firewall_refreshes_lists
from seedcore.topology import node_address, settings_for
from seedcore.web_tls import door_context, door_files

# `nginx -t` reads the config and the certificate: a few hundred milliseconds.
CONFIG_TEST_TIMEOUT_S = 30


def web_reads() -> list:
    """The facts the door's steps decide with (preflight bundles them)."""
    return [*package_reads(), [Directory, {"path": web.DOOR_DIR}],
            *[[File, {"path": layout.web_default_site}] for layout in layouts() if layout.web_default_site],
            *[read for path in (web.SITE_FILE, web.CERT_FILE) for read in file_reads(path)],
            *[read for path in (web.KEY_FILE, web.PASSWORD_FILE) for read in root_only_reads(path)],
            *[read for layout in layouts() for read in service_reads(layout.web_service)]]


def port_problems(host, settings: dict) -> list[str]:
    """Each door port must be free or held by nginx itself."""
    ports = read_fact(host, ListeningPorts)
    return [
        f"host {host.name}: {port_holder_problem(door.port, door.port_key, holder, 'nginx')}"
        for door in web.doors(host, settings)
        for holder in ports.get(door.port, [])
        if holder["process"] != "nginx"
    ]


def password(settings: dict) -> str:
    """The door's password, from the control machine's environment (validated before any change)."""
    return os.environ.get(settings["web_password_env"], "")


def _put(name: str, text: str, dest: str):
    return files.put(name=name, src=StringIO(text), dest=dest, mode="644", user="root", group="root")


@deploy("Open the web door", data_defaults=WEB_DEFAULTS)
def install_web_door(inventory):
    settings = settings_for(host)
    tls = door_files(host, inventory)
    family = family_of(host)
    layout = family.layout
    package = family.install_packages(name="Install nginx from the distribution's packages",
                                      packages=list(layout.web_packages),
                                      update=not firewall_refreshes_lists(host), no_recommends=True)
    default_site = None
    if layout.web_default_site:
        # Installed with the package: once it is, this step reads the host again and finds it.
        # Debian's is a link to sites-available/: force removes the link (rm -rf on the link, not
        # its target); no backup beside it, where nginx would still load it.
        default_site = files.file(name="Remove nginx's default site (port 80): nginx opens only the doors",
                                  path=layout.web_default_site, present=False, force=True, force_backup=False)
    files.directory(name="Create the door's directory", path=web.DOOR_DIR, mode="755", user="root",
                    group="root")
    cert = _put("Write the door's certificate", tls.cert, web.CERT_FILE)
    key = secret_files.root_only_file(name="Write the door's key (root only)", text=tls.key,
                                      dest=web.KEY_FILE)
    users = secret_files.root_only_file(
        name="Write the door's password file (root and nginx only)",
        text=web.password_file(settings["web_user"], password(settings), host.name),
        dest=web.PASSWORD_FILE, group=layout.web_group)
    site = _put("Write the door's nginx site", web.site_config(web.doors(host, settings)), web.SITE_FILE)
    written = [step for step in (default_site, cert, key, users, site) if step is not None]
    if changed := after_change(package, *written):
        server.shell(name="Check nginx's config before it is loaded (nginx -t)",
                     commands=[f"timeout {CONFIG_TEST_TIMEOUT_S} nginx -t -q"], _if=changed)
    systemd.service(name="Enable and start nginx", service=layout.web_service, running=True, enabled=True)
    if changed := after_change(package):
        systemd.service(name="Restart nginx because it was just installed (with the distribution's site)",
                        service=layout.web_service, restarted=True, _if=changed)
    if changed := after_change(*written, unless=(package,)):
        systemd.service(name="Reload nginx because its site, certificate or password changed",
                        service=layout.web_service, reloaded=True, _if=changed)


def door_results(host, inventory, reach: Reach, what: str, deadline: float) -> list[checks.Result]:
    """The `what` door of `host` ("dashboard", "prometheus"), polled until it answers
    401 without the password and 200 with it, or `deadline`."""
    settings = settings_for(host)
    results = []
    for door in web.doors(host, settings):
        if door.what != what:
            continue
        url = web.door_url(node_address(host), door).rstrip("/") + door.check_path
        probe = checks.probe_door(reach, url, door_context(host, inventory), settings["web_user"],
                                  password(settings))
        results.append(checks.poll(host.name, f"{what} door", probe, deadline))
    return results

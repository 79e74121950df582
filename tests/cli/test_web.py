"""The web door through the real CLI on `@fake` hosts: where `--dry` opens it, what
stops a run before any change (the password unset, a door port taken)."""

from tests.cli import responses
from tests.cli.cli import WORKER_IPS, assert_refused, problem_line

DOOR_STEPS = ("Install nginx from the distribution's packages",
              "Write the door's password file (root and nginx only)", "Write the door's nginx site")
# nginx's default site comes with its package: a bare host has none to remove yet when the run is
# planned; the step reads the host again once the package is in and removes it then.
DEFAULT_SITE = "Remove nginx's default site (port 80): nginx opens only the doors"
# Acting on the steps above (seedcore/changes.py): conditional changes.
AFTER_DOOR_STEPS = ("Check nginx's config before it is loaded (nginx -t)",
                    "Restart nginx because it was just installed (with the distribution's site)")


def test_bare_hosts_get_the_door_on_the_head_and_the_monitoring_host_only(deployment):
    head = deployment.head()
    deployment.worker("worker-1", WORKER_IPS[0])
    monitor = deployment.worker("worker-2", WORKER_IPS[1])
    deployment.host("monitoring", monitor.removeprefix("@fake/"))
    run = deployment.dry()
    assert run.code == 0, run.describe()
    for step in DOOR_STEPS:
        assert run.changed(step) == {head, monitor}, step
    site = run.row(DEFAULT_SITE)
    assert site.change | site.conditional == set(), run.describe()
    for step in AFTER_DOOR_STEPS:
        row = run.row(step)
        assert (row.change, row.conditional) == (frozenset(), {head, monitor}), step
    assert "Reload nginx" not in run.output
    # Before the dashboard is checked: the door comes before the Ray node.
    assert run.output.index("Write the door's nginx site") < run.output.index("Install Docker's packages")


def test_the_default_site_debian_links_in_is_removed_with_nginx_installed(deployment):
    # Debian's nginx links sites-enabled/default to sites-available/default.
    site = "/etc/nginx/sites-enabled/default"
    link = (f"user=root group=root mode=lrwxrwxrwx atime=1796300000 mtime=1796300000 ctime=1796300000 "
            f"size=34 '{site}' -> '/etc/nginx/sites-available/default'")
    head = deployment.head(facts=responses.bare_debian12(DEB_PACKAGES=responses.dpkg_list(["nginx"]),
                                                         DEFAULT_SITE_STAT=link))
    deployment.worker("worker-1", WORKER_IPS[0])
    run = deployment.dry()
    assert run.code == 0, run.describe()
    assert run.changed(DEFAULT_SITE) == {head}, run.describe()
    assert run.changed("Install nginx from the distribution's packages") == set(), run.describe()
    # Removing the site reloads nginx (it was installed before this run).
    row = run.row("Reload nginx because its site, certificate or password changed")
    assert (row.change, row.conditional) == (frozenset(), {head}), run.describe()


def test_without_the_door_nginx_is_left_alone_and_no_password_is_needed(deployment, monkeypatch):
    monkeypatch.delenv("SEEDCORE_WEB_PASSWORD")
    deployment.head(web_manage=False)
    deployment.worker(web_manage=False)
    run = deployment.dry()
    assert run.code == 0, run.describe()
    assert "nginx" not in run.output


def test_an_unset_password_stops_the_run_before_any_change(deployment, monkeypatch):
    monkeypatch.delenv("SEEDCORE_WEB_PASSWORD")
    head = deployment.head()
    deployment.worker()
    lines = assert_refused(deployment.dry(), deployment.path)
    line = problem_line(lines, deployment.path, f"host {head}: the web door's password")
    assert "is not set" in line and "web_manage=False" in line
    assert len(lines) == 1, lines


def test_a_door_port_held_by_another_process_stops_the_run(deployment):
    held = responses.bare_debian12(LISTENING=responses.listening(responses.SSHD, (8443, "caddy", 777, "")))
    head = deployment.head(facts=held)
    deployment.worker()
    lines = assert_refused(deployment.dry(), deployment.path)
    line = problem_line(lines, deployment.path, f"host {head}: port 8443 (web_dashboard_port)")
    assert "held by caddy (pid 777), not by nginx" in line
    assert len(lines) == 1, lines

"""The floor's hand-typed commands come from what the deploy renders, so they stay in step."""

import base64
import re

import yaml

from bench import byhand
from seedcore import render
from seedcore.commands import ray_start_args
from tests.harness import DEFAULT_IMAGE, make_node


def _decoded_writes(line: str) -> dict[str, str]:
    """path -> content of every `echo B64 | base64 -d > PATH` in a shell line."""
    return {path: base64.b64decode(data).decode()
            for data, path in re.findall(r"echo ([A-Za-z0-9+/=]+) \| base64 -d > (\S+?)(?: |$|')", line)}


def test_docker_run_takes_every_option_from_the_rendered_compose_service():
    node = make_node("worker", address="10.0.0.11", settings={"ray_env": {"TOKEN": "a$b"},
                                                              "ray_notes_env": {"NOTE": "a #b"}})
    assert byhand.docker_run(node, "0123456789abcdef") == [
        "docker", "run", "--detach", "--name", "seedcore-ray-worker", "--network", "host",
        "--restart", "unless-stopped", "--shm-size", "2560m", "--ulimit", "nofile=65536:65536",
        "--env-file", "/opt/seedcore/ray.env", "--env", "NOTE=a #b", "--env", "TOKEN=a$b",
        "--volume", "/opt/seedcore/serve:/srv/seedcore/serve:ro",
        "--label", "io.seedcore.managed-by=seedcore-deploy", "--label", "io.seedcore.role=worker",
        "--label", "io.seedcore.config-hash=0123456789abcdef",
        DEFAULT_IMAGE, *ray_start_args(node),
    ]


def test_a_changed_setting_reaches_the_floor_without_editing_the_bench():
    node = make_node("head", settings={"ray_object_store_memory_mb": 512, "ray_nofile_limit": 16384})
    args = byhand.docker_run(node, "h")
    assert args[args.index("--shm-size") + 1] == "640m"
    assert args[args.index("--ulimit") + 1] == "nofile=16384:16384"
    assert "--object-store-memory=536870912" in args
    assert args[args.index(DEFAULT_IMAGE) + 1:] == ray_start_args(node)


def test_the_head_gets_the_env_file_the_health_app_and_the_cluster_wide_serve_config():
    head = make_node("head")
    head = type(head)(**{**head.__dict__, "cluster_size": 3})
    files = {file.path: file.text for file in byhand.node_files(head)}
    assert files == {
        "/opt/seedcore/ray.env": render.env_file(head),
        "/opt/seedcore/serve/seedcore_health.py": render.health_app_source(),
        "/opt/seedcore/serve/seedcore_route_check.py": render.route_check_source(),
        "/opt/seedcore/serve/serve.yaml": render.serve_config(head.settings, 3),
    }
    serve = yaml.safe_load(files["/opt/seedcore/serve/serve.yaml"])
    assert serve["applications"][0]["deployments"] == [{"name": "Health", "num_replicas": 3}]
    line = byhand.start_node(head, "h")
    assert _decoded_writes(line) == files


def test_distro_docker_is_installed_without_recommends_and_with_the_rendered_daemon_json():
    settings = make_node(settings={"docker_install_source": "distro",
                                   "docker_insecure_registries": ["10.0.0.2:5000"]}).settings
    line = byhand.docker_install(settings, "debian", "bookworm")
    install = "apt-get install -y -q --no-install-recommends --allow-downgrades docker.io docker-compose "
    assert install in line
    assert "apt-helper" not in line
    assert _decoded_writes(line) == {"/etc/docker/daemon.json": render.daemon_json(settings)}


def test_mirror_docker_comes_from_the_same_repository_and_pinned_packages_as_the_deploy():
    settings = make_node(settings={
        "docker_install_source": "docker", "docker_apt_url": "http://10.0.0.3",
        "docker_official_packages": ["docker.io", "docker-compose"],
        "docker_pinned_packages": ["docker.io"], "docker_version": "26.1.5+lab1",
    }).settings
    line = byhand.docker_install(settings, "debian", "trixie")
    assert ("/usr/lib/apt/apt-helper download-file http://10.0.0.3/debian/gpg "
            "/etc/apt/keyrings/docker-by-hand.asc") in line
    assert "apt-get install -y -q --allow-downgrades docker.io=26.1.5+lab1 docker-compose " in line
    assert _decoded_writes(line)["/etc/apt/sources.list.d/docker-by-hand.sources"] == (
        "Types: deb\nURIs: http://10.0.0.3/debian\nSuites: trixie\nComponents: stable\n"
        "Signed-By: /etc/apt/keyrings/docker-by-hand.asc\n")


def test_alive_ips_reads_the_dashboards_filtered_node_list():
    payload = {"data": {"result": {"result": [
        {"node_ip": "10.0.0.10", "state": "ALIVE"}, {"node_ip": "10.0.0.11", "state": "ALIVE"},
        {"node_ip": "10.0.0.12", "state": "DEAD"}]}}}
    assert byhand.alive_ips(payload) == {"10.0.0.10", "10.0.0.11"}
    assert byhand.alive_ips({}) == set()

"""The production path on the lab: Docker from the lab's signed apt mirror,
a wrong key refused before Docker is touched, and Compose v1 and v2 giving the
Ray containers byte for byte the environment asked for.

Written against the lab inventory (inventories/lab.py), which passes the
mirror as docker_apt_url / docker_apt_key_fingerprint / docker_official_packages,
and pins docker.io (docker_version) to the version only the mirror has.
"""

import shlex

import pytest

from lab import control as labctl

pytestmark = pytest.mark.e2e

# Values Compose v1 (python-dotenv) and v2 (compose-go) disagree on in an env file.
AWKWARD = {
    "SC_SPACES": "two  words  ",
    "SC_HASH": "a #not-comment",
    "SC_QUOTES": "it's \"quoted\" 'twice'",
    "SC_DOLLAR": "$HOME ${USER} $$ $",
    "SC_EQUALS": "a=b=c",
    "SC_BACKSLASH": "C:\\path\\n \\",
    "SC_UNICODE": "naïve 日本 🚀",
    "SC_FLOAT": "1e3",
    "SC_EMPTY": "",
}
SECRET_VALUE = "p@ss w#rd $ecret \\ 'q' \"dq\" ünï"
SECRET_SOURCE = "SEEDCORE_E2E_AWKWARD_SECRET"


def compose_version(lab_state, host) -> str:
    code, out = labctl.run_on(lab_state, host, "sudo docker compose version --short 2>/dev/null "
                              "|| sudo docker-compose version --short")
    assert code == 0, out
    return out.strip().lstrip("v")


def container_env(lab_state, host, container: str) -> dict[bytes, bytes]:
    """The container's environment, read with `env -0` so any byte survives."""
    ssh = labctl.Ssh(lab_state, host)
    try:
        _, stdout, _ = ssh.client.exec_command(f"sudo docker exec {container} env -0", timeout=60)
        raw = stdout.read()
    finally:
        ssh.close()
    return dict(entry.split(b"=", 1) for entry in raw.split(b"\0") if entry)


def _installed_version(lab_state, host, package: str) -> str:
    code, out = labctl.run_on(lab_state, host, f"dpkg-query -W -f '${{Version}}' {package}")
    assert code == 0, f"{host['name']}: {out}"
    return out.strip()


def test_docker_comes_from_the_signed_mirror_and_a_second_run_changes_nothing(converged, lab_state):
    mirror_hosts = [h for h in lab_state["hosts"] if h["install_source"] == "docker"]
    distro_hosts = [h for h in lab_state["hosts"] if h["install_source"] == "distro"]
    assert mirror_hosts and distro_hosts, lab_state["hosts"]
    for host in mirror_hosts:
        code, out = labctl.run_on(lab_state, host, (
            "grep -x 'Signed-By: /etc/apt/keyrings/docker.gpg' /etc/apt/sources.list.d/docker.sources && "
            "gpg --show-keys --with-colons /etc/apt/keyrings/docker.gpg 2>/dev/null | grep -c '^pub:'"
        ))
        assert code == 0 and out.splitlines()[-1] == "1", f"{host['name']}: {out}"
        # Only the mirror has these versions (repacked with its own suffix): the
        # files came from it, and docker_version's pin on docker.io was honoured.
        published = lab_state["apt_mirror"]["versions"][host["distro"]]
        installed = {name: _installed_version(lab_state, host, name) for name in published}
        assert installed == published, host["name"]
        assert installed["docker.io"].endswith("+seedcore.lab1"), installed
    for host in distro_hosts:
        code, out = labctl.run_on(lab_state, host, "test ! -e /etc/apt/sources.list.d/docker.sources")
        assert code == 0, f"{host['name']}: a distro host lists the mirror: {out}"
        # Debian's own build, from the host's archive: not the mirror's.
        version = _installed_version(lab_state, host, "docker.io")
        assert version and "+seedcore." not in version, f"{host['name']}: docker.io {version}"
        assert version != lab_state["apt_mirror"]["versions"][host["distro"]]["docker.io"]
    dry = labctl.pyinfra("--dry", "inventories/lab.py", "deploy/cluster.py")
    changed = [name for name in labctl.changed_operations(dry.output)
               if "apt" in name or "Docker" in name]
    assert changed == [], dry.output[-3000:]


def test_a_wrong_key_fingerprint_stops_the_host_before_docker(converged, lab_state):
    # Only a host installing from the mirror reads docker_apt_key_fingerprint.
    target = next(h for h in lab_state["hosts"] if h["install_source"] == "docker")
    inventory = labctl.write_inventory("wrong_docker_key", f"""
        for _name, data in ray_head + ray_workers:
            if _name == {target['name']!r}:
                data["docker_apt_key_fingerprint"] = "0" * 40
        """)
    before = labctl.started_at(lab_state, target)
    run = labctl.pyinfra(inventory, "deploy/cluster.py")
    assert run.returncode != 0
    assert f"host {target['name']}: the key at " in run.output
    assert f"is not exactly docker_apt_key_fingerprint={'0' * 40} (it has: " in run.output
    assert labctl.started_at(lab_state, target) == before
    again = labctl.pyinfra("inventories/lab.py", "deploy/cluster.py")
    assert again.returncode == 0, again.output[-3000:]


def test_compose_v1_and_v2_give_the_containers_exactly_the_asked_environment(converged, lab_state):
    by_version: dict[str, dict] = {}
    for host in lab_state["hosts"]:
        by_version.setdefault("v2" if compose_version(lab_state, host).startswith("2") else "v1", host)
    missing = {"v1", "v2"} - set(by_version)
    if missing:
        pytest.skip(f"the lab has no host with Compose {' or '.join(sorted(missing))}")
    inventory = labctl.write_inventory("awkward_env", f"""
        for _name, data in ray_head + ray_workers:
            data["ray_env"] = {AWKWARD!r}
            data["ray_secret_env"] = {{"SC_SECRET": {SECRET_SOURCE!r}}}
        """)
    run = labctl.pyinfra(inventory, "deploy/cluster.py", env={SECRET_SOURCE: SECRET_VALUE})
    assert run.returncode == 0, run.output[-3000:]
    wanted = {key.encode(): value.encode() for key, value in {**AWKWARD, "SC_SECRET": SECRET_VALUE}.items()}
    for version, host in sorted(by_version.items()):
        container = "seedcore-ray-head" if host["role"] == "head" else "seedcore-ray-worker"
        env = container_env(lab_state, host, container)
        got = {key: env.get(key) for key in wanted}
        assert got == wanted, f"Compose {version} on {host['name']}"
        code, out = labctl.run_on(lab_state, host, "sudo stat -c '%a %U' /opt/seedcore/*.yml")
        assert code == 0 and set(out.split("\n")) - {""} <= {"600 root"}, out
    restored = labctl.pyinfra("inventories/lab.py", "deploy/cluster.py")
    assert restored.returncode == 0, restored.output[-3000:]


# A newer docker.io than the pin, offered by a repository of the host's own (an empty
# package, never installed while the hold works): what an operator's upgrade would take.
NEWER_REPO = "/tmp/seedcore-newer-docker"
ONLY_NEWER = (f"-o Dir::Etc::SourceList={NEWER_REPO}.list -o Dir::Etc::SourceParts=- "
              "-o APT::Get::List-Cleanup=0")


def _offer_newer_docker(version: str) -> str:
    return f"""set -e
rm -rf {NEWER_REPO} && mkdir -p {NEWER_REPO}/pkg/DEBIAN && cd {NEWER_REPO}
printf '%s\\n' 'Package: docker.io' 'Version: {version}' 'Architecture: all' \\
  'Maintainer: lab <lab@example.invalid>' 'Description: newer' > pkg/DEBIAN/control
dpkg-deb --build pkg docker.io.deb >/dev/null
{{ sed '/^Description/d' pkg/DEBIAN/control; echo 'Filename: ./docker.io.deb'
  echo "Size: $(stat -c %s docker.io.deb)"; echo "SHA256: $(sha256sum docker.io.deb | cut -d' ' -f1)"
  echo 'Description: newer'; }} > Packages
echo 'deb [trusted=yes] file:{NEWER_REPO} ./' > {NEWER_REPO}.list
apt-get {ONLY_NEWER} update >/dev/null
apt-cache {ONLY_NEWER} policy docker.io | sed -n 's/^ *Candidate: //p'
"""


def test_pinned_docker_is_held_and_an_operators_upgrade_leaves_it(converged, lab_state):
    mirror_hosts = [h for h in lab_state["hosts"] if h["install_source"] == "docker"]
    for host in lab_state["hosts"]:
        code, out = labctl.run_on(lab_state, host, "apt-mark showhold")
        assert code == 0, f"{host['name']}: {out}"
        wanted = ["docker.io"] if host in mirror_hosts else []
        assert out.split() == wanted, f"{host['name']} holds {out.split()}, not {wanted}"
    host = mirror_hosts[0]
    pinned = _installed_version(lab_state, host, "docker.io")
    newer = pinned + "+operator1"
    try:
        code, out = labctl.run_on(lab_state, host, f"sudo sh -c {shlex.quote(_offer_newer_docker(newer))}")
        assert code == 0 and out.splitlines()[-1] == newer, f"the newer docker.io is not on offer: {out}"
        code, out = labctl.run_on(lab_state, host, f"sudo apt-get {ONLY_NEWER} -s upgrade")
        assert code == 0 and "Inst docker.io" not in out, out
        apt = f"sudo DEBIAN_FRONTEND=noninteractive apt-get {ONLY_NEWER} -y"
        labctl.run_on(lab_state, host, f"{apt} upgrade; {apt} install --only-upgrade docker.io", timeout=300)
        assert _installed_version(lab_state, host, "docker.io") == pinned
    finally:
        labctl.run_on(lab_state, host, f"sudo rm -rf {NEWER_REPO} {NEWER_REPO}.list "
                      "/var/lib/apt/lists/*seedcore-newer-docker*")
    dry = labctl.pyinfra("--dry", "inventories/lab.py", "deploy/cluster.py")
    assert dry.returncode == 0, dry.output[-3000:]
    changed = [name for name in labctl.changed_operations(dry.output, conditional=True)
               if "apt" in name or "Docker" in name]
    assert changed == [], dry.output[-3000:]

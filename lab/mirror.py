"""The lab's apt mirror: Debian's Docker engine and Compose packages for every
lab release, signed with the lab's own key and served over plain HTTP on the
lab network in Docker's repository layout (`<url>/debian/gpg`,
`<url>/debian/dists/<codename>/stable/`). docker.io and docker-compose carry a
version only the mirror has (lab/repack.py), read back from its Packages index."""

import os
import time
import urllib.error
import urllib.request

from lab import docker, log
from lab.config import DISTROS, LABEL, MIRROR_KEY, MIRROR_NAME, NETWORK, mirror_ip, mirror_url
from lab.errors import LabError
from lab.repack import REPACKED, SUFFIX

FINGERPRINT_FILE = "/var/lib/lab-apt/fingerprint"


def packages_index(codename: str) -> str:
    """Where the mirror publishes a release's Packages index, under its web root."""
    return f"/srv/apt/debian/dists/{codename}/stable/binary-amd64/Packages"


def published_versions(codename: str, index: str) -> dict[str, str]:
    """REPACKED name -> version, from one release's Packages index; LabError when
    one is missing or lacks the mirror's own suffix."""
    listed: dict[str, str] = {}
    for paragraph in index.split("\n\n"):
        lines = [line for line in paragraph.splitlines() if ": " in line and line[0] != " "]
        fields = dict(line.split(": ", 1) for line in lines)
        if fields.get("Package") in REPACKED:
            listed[fields["Package"]] = fields.get("Version", "")
    versions = {}
    for name in REPACKED:
        version = listed.get(name, "")
        if not version.endswith(SUFFIX):
            found = f"version {version}" if version else "no such package"
            raise LabError(
                f"the apt mirror's {codename} index lists {name} with {found}, not a version ending "
                f"in {SUFFIX}: rebuild the apt-mirror image (python -m lab up)"
            )
        versions[name] = version
    return versions


def _read_versions() -> dict[str, dict[str, str]]:
    """codename -> REPACKED name -> version, as the running mirror publishes them."""
    versions = {}
    for codename in DISTROS:
        index = docker.exec_in(MIRROR_NAME, f"cat {packages_index(codename)}", timeout=30)
        if index.returncode != 0:
            raise LabError(f"reading the apt mirror's {codename} index failed: {index.stderr.strip()}")
        versions[codename] = published_versions(codename, index.stdout)
    return versions


def _published_fingerprint() -> str:
    result = docker.exec_in(MIRROR_NAME, f"cat {FINGERPRINT_FILE}", timeout=30)
    return result.stdout.strip() if result.returncode == 0 else ""


def _start(image: str) -> None:
    current = docker.inspect("container", MIRROR_NAME)
    if current is not None:
        if docker.labels_of(current).get(LABEL) != "1":
            raise LabError(f"a container named {MIRROR_NAME} exists that the lab did not create")
        docker.run("container", "rm", "--force", MIRROR_NAME)
    log.step(f"starting apt mirror {MIRROR_NAME} at {mirror_url()}")
    docker.run(
        "run",
        "--detach",
        "--name",
        MIRROR_NAME,
        "--hostname",
        MIRROR_NAME,
        *docker.label_args(),
        "--label",
        f"{LABEL}.role=apt-mirror",
        "--network",
        NETWORK,
        "--ip",
        mirror_ip(),
        "--restart",
        "unless-stopped",
        image,
    )


def signing_key() -> str:
    """The lab's secret signing key (armored), made once into .lab/ by the mirror image."""
    if MIRROR_KEY.exists():
        return MIRROR_KEY.read_text()
    log.step(f"generating the apt mirror's signing key into {MIRROR_KEY}")
    made = docker.exec_in(MIRROR_NAME, "lab-apt-new-key", timeout=120)
    if made.returncode != 0 or "PRIVATE KEY BLOCK" not in made.stdout:
        raise LabError(f"generating the apt mirror's signing key failed: {made.stderr.strip()}")
    MIRROR_KEY.parent.mkdir(parents=True, exist_ok=True)
    handle = os.open(MIRROR_KEY, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(handle, "w") as out:
        out.write(made.stdout)
    return made.stdout


def ensure(image: str) -> dict:
    """Run the mirror from `image` with its packages published and signed; return
    {"key_fingerprint": <the key's>, "versions": {codename: {name: version}}}
    (the repacked packages' versions, as published).

    A running mirror from the same image that already published is kept.
    """
    current = docker.inspect("container", MIRROR_NAME)
    current_ok = (
        current is not None
        and docker.labels_of(current).get(LABEL) == "1"
        and current["State"]["Running"]
        and current["Config"]["Image"] == image
    )
    if current_ok and MIRROR_KEY.exists():
        published = _published_fingerprint()
        if published:
            return {"key_fingerprint": published, "versions": _read_versions()}
    if not current_ok:
        _start(image)
    key = signing_key()
    started = time.monotonic()
    published = docker.exec_in(MIRROR_NAME, "lab-apt-publish", input=key, timeout=300)
    fingerprint = published.stdout.strip().splitlines()[-1] if published.stdout.strip() else ""
    if published.returncode != 0 or len(fingerprint) != 40:
        raise LabError(f"publishing the apt mirror failed: {published.stderr.strip() or 'no fingerprint'}")
    log.info(f"apt mirror published in {time.monotonic() - started:.0f} s (key {fingerprint})")
    return {"key_fingerprint": fingerprint, "versions": _read_versions()}


def wait_ready(timeout: float = 30) -> None:
    """Until the mirror's signing key answers over HTTP on the lab network."""
    url = f"{mirror_url()}/debian/gpg"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + timeout
    while True:
        try:
            with opener.open(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise LabError(f"the apt mirror did not answer at {url} in {timeout:.0f} s")
        time.sleep(0.3)

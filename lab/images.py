"""The lab's images, each tagged with a hash of its inputs and rebuilt only when
those inputs change: base (debootstrap), host, registry and ray."""

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from lab import docker, log
from lab.config import (
    CA_BUNDLE,
    DEBIAN_MIRROR,
    DEBIAN_SUITE,
    IMAGE_PREFIX,
    IMAGES_DIR,
    LABEL,
    LOG_DIR,
)
from lab.errors import LabError

# Images built FROM the base, in build order, and whether each gets the CA bundle.
DERIVED = {"host": True, "registry": False, "ray": True}
HASH_LENGTH = 12


def _digest(*parts: bytes) -> str:
    sha = hashlib.sha256()
    for part in parts:
        sha.update(len(part).to_bytes(8, "big"))
        sha.update(part)
    return sha.hexdigest()[:HASH_LENGTH]


def _dir_material(directory: Path) -> list[bytes]:
    material = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        material += [str(path.relative_to(directory)).encode(), path.read_bytes()]
    return material


def _ca_bundle() -> bytes:
    if not CA_BUNDLE.is_file():
        raise LabError(f"no CA bundle at {CA_BUNDLE}: install the ca-certificates package")
    return CA_BUNDLE.read_bytes()


def base_tag() -> str:
    bootstrap = f"debootstrap --variant=minbase {DEBIAN_SUITE} {DEBIAN_MIRROR}".encode()
    return f"{IMAGE_PREFIX}/base:{_digest(bootstrap, *_dir_material(IMAGES_DIR / 'base'))}"


def derived_tag(name: str, parent: str) -> str:
    material = [parent.encode(), *_dir_material(IMAGES_DIR / name)]
    if DERIVED[name]:
        material.append(_ca_bundle())
    return f"{IMAGE_PREFIX}/{name}:{_digest(*material)}"


def tags() -> dict[str, str]:
    """name -> the tag the current inputs give, without building anything."""
    base = base_tag()
    return {"base": base, **{name: derived_tag(name, base) for name in DERIVED}}


def exists(tag: str) -> bool:
    return docker.inspect("image", tag) is not None


def _log_file(name: str) -> Path:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    return LOG_DIR / f"build-{name}.log"


def _tail(path: Path, lines: int = 15) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def build_base(tag: str) -> None:
    """debootstrap a minimal bookworm, add its apt sources, import it as `tag`."""
    if shutil.which("debootstrap") is None:
        raise LabError("debootstrap is not installed: run scripts/ensure-docker.sh")
    logfile = _log_file("base")
    root = Path(tempfile.mkdtemp(prefix="seedcore-lab-base-"))
    try:
        with logfile.open("w") as out:
            done = subprocess.run(
                ["debootstrap", "--variant=minbase", DEBIAN_SUITE, str(root), DEBIAN_MIRROR],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        if done.returncode != 0:
            raise LabError(f"debootstrap failed (log: {logfile}):\n{_tail(logfile)}")
        files = IMAGES_DIR / "base"
        shutil.copy(files / "debian.sources", root / "etc/apt/sources.list.d/debian.sources")
        (root / "etc/apt/sources.list").unlink(missing_ok=True)
        for cached in (root / "var/cache/apt/archives").glob("*.deb"):
            cached.unlink()
        tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        imported = subprocess.run(
            [
                docker.binary(),
                "import",
                "--change",
                f"LABEL {LABEL}=1",
                "--change",
                'CMD ["/bin/bash"]',
                "-",
                tag,
            ],
            stdin=tar.stdout,
            capture_output=True,
            text=True,
        )
        tar.stdout.close()
        if tar.wait() != 0 or imported.returncode != 0:
            raise LabError(f"importing the base image failed: {imported.stderr.strip() or 'tar failed'}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def build_derived(name: str, tag: str, parent: str) -> None:
    """`docker build` (legacy builder) of lab/images/NAME FROM `parent`."""
    logfile = _log_file(name)
    with tempfile.TemporaryDirectory(prefix=f"seedcore-lab-{name}-") as context:
        shutil.copytree(IMAGES_DIR / name, context, dirs_exist_ok=True)
        if DERIVED[name]:
            shutil.copy(CA_BUNDLE, Path(context) / "ca-certificates.crt")
        with logfile.open("w") as out:
            done = subprocess.run(
                [
                    docker.binary(),
                    "build",
                    "--force-rm",
                    "--build-arg",
                    f"BASE={parent}",
                    "--label",
                    f"{LABEL}=1",
                    "-t",
                    tag,
                    context,
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "DOCKER_BUILDKIT": "0"},
            )
    if done.returncode != 0:
        raise LabError(f"building {tag} failed (log: {logfile}):\n{_tail(logfile)}")


def prune_stale(repository: str, keep: str) -> None:
    """Untag older lab builds of `repository`; images still in use are left alone."""
    listed = docker.run(
        "image",
        "ls",
        repository,
        "--filter",
        f"label={LABEL}=1",
        "--format",
        "{{.Repository}}:{{.Tag}}",
        check=False,
    )
    for tag in listed.stdout.split():
        if tag != keep and not tag.endswith(":<none>"):
            docker.run("image", "rm", tag, check=False)


def ensure() -> dict[str, str]:
    """Build whatever is missing; return name -> tag for base, host, registry, ray."""
    wanted = tags()
    for name, tag in wanted.items():
        if exists(tag):
            continue
        log.step(f"building image {tag} (log: {_log_file(name)})")
        started = time.monotonic()
        if name == "base":
            build_base(tag)
        else:
            build_derived(name, tag, wanted["base"])
        log.info(f"built {tag} in {time.monotonic() - started:.0f} s")
        prune_stale(tag.rsplit(":", 1)[0], tag)
    return wanted

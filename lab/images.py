"""The lab's images, each tagged with a hash of its inputs and rebuilt only when
those inputs change: a base (debootstrap) and a host image per Debian release,
registry, ray and apt-mirror.

The default release's images keep the plain names (`base`, `host`); another
release's carry its codename (`base-trixie`, `host-trixie`)."""

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from lab import docker, log
from lab.config import (
    CA_BUNDLE,
    DEBIAN_MIRROR,
    DEFAULT_DISTRO,
    DISTROS,
    IMAGE_PREFIX,
    IMAGES_DIR,
    LABEL,
    LOG_DIR,
)
from lab.errors import LabError

HASH_LENGTH = 12
# Where a recipe's `modules` are read from.
LAB_PACKAGE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Recipe:
    """How one image is made: its tag, and for a `docker build` the context
    directory under lab/images, the build arguments (parent images), whether
    the build machine's CA bundle goes in, and the files of lab/ copied into
    the context beside it (`modules`)."""

    tag: str
    context: str = ""
    build_args: tuple[tuple[str, str], ...] = ()
    ca_bundle: bool = False
    modules: tuple[str, ...] = ()


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


def image_name(kind: str, distro: str = DEFAULT_DISTRO) -> str:
    """`base`/`host` for the default release, `base-trixie`/`host-trixie` for another."""
    return kind if distro == DEFAULT_DISTRO else f"{kind}-{distro}"


def base_tag(distro: str = DEFAULT_DISTRO) -> str:
    name = image_name("base", distro)
    bootstrap = f"debootstrap --variant=minbase {distro} {DEBIAN_MIRROR}".encode()
    return f"{IMAGE_PREFIX}/{name}:{_digest(bootstrap, *_dir_material(IMAGES_DIR / name))}"


def derived_tag(
    name: str,
    context: str,
    build_args: tuple[tuple[str, str], ...],
    ca_bundle: bool,
    modules: tuple[str, ...] = (),
) -> str:
    material = [parent.encode() for _, parent in build_args] + _dir_material(IMAGES_DIR / context)
    if ca_bundle:
        material.append(_ca_bundle())
    for module in modules:
        material += [module.encode(), (LAB_PACKAGE / module).read_bytes()]
    return f"{IMAGE_PREFIX}/{name}:{_digest(*material)}"


def recipes() -> dict[str, Recipe]:
    """name -> how to make it, in build order, without building anything."""
    made: dict[str, Recipe] = {}

    def derive(
        name: str, context: str, build_args: dict[str, str], ca_bundle: bool, modules: tuple[str, ...] = ()
    ) -> None:
        args = tuple(build_args.items())
        tag = derived_tag(name, context, args, ca_bundle, modules)
        made[name] = Recipe(tag, context, args, ca_bundle, modules)

    for distro in DISTROS:
        made[image_name("base", distro)] = Recipe(base_tag(distro))
    for distro in DISTROS:
        derive(image_name("host", distro), "host", {"BASE": made[image_name("base", distro)].tag}, True)
    base = made["base"].tag
    derive("registry", "registry", {"BASE": base}, False)
    derive("ray", "ray", {"BASE": base}, True)
    hosts = {f"HOST_{distro.upper()}": made[image_name("host", distro)].tag for distro in DISTROS}
    # repack.py gives the mirror's docker.io and docker-compose a version only it has.
    derive("apt-mirror", "apt-mirror", {"BASE": base, **hosts}, False, ("repack.py",))
    return made


def tags() -> dict[str, str]:
    """name -> the tag the current inputs give, without building anything."""
    return {name: recipe.tag for name, recipe in recipes().items()}


def host_tag(tags: dict[str, str], distro: str) -> str:
    """The host image of one Debian release."""
    return tags[image_name("host", distro)]


def exists(tag: str) -> bool:
    return docker.inspect("image", tag) is not None


def _log_file(name: str) -> Path:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    return LOG_DIR / f"build-{name}.log"


def _tail(path: Path, lines: int = 15) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def build_base(tag: str, distro: str = DEFAULT_DISTRO) -> None:
    """debootstrap a minimal `distro`, add its apt sources, import it as `tag`."""
    if shutil.which("debootstrap") is None:
        raise LabError("debootstrap is not installed: run scripts/ensure-docker.sh")
    name = image_name("base", distro)
    logfile = _log_file(name)
    root = Path(tempfile.mkdtemp(prefix=f"seedcore-lab-{name}-"))
    try:
        with logfile.open("w") as out:
            done = subprocess.run(
                ["debootstrap", "--variant=minbase", distro, str(root), DEBIAN_MIRROR],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        if done.returncode != 0:
            raise LabError(f"debootstrap failed (log: {logfile}):\n{_tail(logfile)}")
        files = IMAGES_DIR / name
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


def build_derived(name: str, recipe: Recipe) -> None:
    """`docker build` (legacy builder) of lab/images/CONTEXT FROM its parents."""
    logfile = _log_file(name)
    tag = recipe.tag
    with tempfile.TemporaryDirectory(prefix=f"seedcore-lab-{name}-") as context:
        shutil.copytree(IMAGES_DIR / recipe.context, context, dirs_exist_ok=True)
        if recipe.ca_bundle:
            shutil.copy(CA_BUNDLE, Path(context) / "ca-certificates.crt")
        for module in recipe.modules:
            shutil.copy(LAB_PACKAGE / module, Path(context) / module)
        build_args = [arg for key, parent in recipe.build_args for arg in ("--build-arg", f"{key}={parent}")]
        with logfile.open("w") as out:
            done = subprocess.run(
                [
                    docker.binary(),
                    "build",
                    "--force-rm",
                    *build_args,
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
    """Build whatever is missing; return name -> tag for every image."""
    wanted = recipes()
    bases = {image_name("base", distro): distro for distro in DISTROS}
    for name, recipe in wanted.items():
        if exists(recipe.tag):
            continue
        log.step(f"building image {recipe.tag} (log: {_log_file(name)})")
        started = time.monotonic()
        if name in bases:
            build_base(recipe.tag, bases[name])
        else:
            build_derived(name, recipe)
        log.info(f"built {recipe.tag} in {time.monotonic() - started:.0f} s")
        prune_stale(recipe.tag.rsplit(":", 1)[0], recipe.tag)
    return {name: recipe.tag for name, recipe in wanted.items()}

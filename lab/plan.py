"""What each host of `up` runs: its Debian release and where its Docker comes from.

Pure functions: `--distros bookworm,trixie` and `--sources distro,docker`
give one value per host in order, the last repeating for the rest.
"""

from lab.config import DEFAULT_DISTRO, DEFAULT_SOURCES, DISTROS, INSTALL_SOURCES
from lab.errors import LabError


def expand(listing: str, count: int, option: str, known: tuple[str, ...]) -> list[str]:
    """`a,b` for 4 hosts -> [a, b, b, b]; refuses unknown values and more values than hosts."""
    values = [value.strip() for value in listing.split(",")]
    if not all(values):
        raise LabError(
            f"{option} {listing!r}: an empty entry; give comma-separated values, e.g. {','.join(known)}"
        )
    unknown = [value for value in values if value not in known]
    if unknown:
        raise LabError(f"{option}: unknown value {unknown[0]!r} (known: {', '.join(known)})")
    if len(values) > count:
        raise LabError(f"{option} lists {len(values)} values for {count} hosts: raise --hosts or list fewer")
    return values + [values[-1]] * (count - len(values))


def distros_for(count: int, listing: str | None, kept: dict[int, str]) -> list[str]:
    """One release per host. Without --distros a running host keeps its release
    (`kept`: index -> codename) and a new host gets the default one."""
    if listing is not None:
        return expand(listing, count, "--distros", tuple(DISTROS))
    return [kept.get(index, DEFAULT_DISTRO) for index in range(1, count + 1)]


def sources_for(distros: list[str], listing: str | None, kept: dict[int, tuple[str, str]]) -> list[str]:
    """One Docker install source per host: --sources, else the source recorded for
    a host of the same release (`kept`: index -> (codename, source)), else the
    release's default (Debian 12: its own archive; Debian 13: the lab's mirror)."""
    if listing is not None:
        return expand(listing, len(distros), "--sources", INSTALL_SOURCES)
    chosen = []
    for index, distro in enumerate(distros, start=1):
        kept_distro, kept_source = kept.get(index, ("", ""))
        chosen.append(kept_source if kept_distro == distro and kept_source else DEFAULT_SOURCES[distro])
    return chosen

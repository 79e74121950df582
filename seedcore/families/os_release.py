"""What /etc/os-release says, as pyinfra's LinuxDistribution fact reads it."""


def distro_of(facts: dict | None) -> tuple[str, str]:
    """(id, codename) from the LinuxDistribution fact, e.g. ("debian", "bookworm")."""
    facts = facts or {}
    meta = facts.get("release_meta") or {}
    distro_id = (meta.get("ID") or facts.get("name") or "").lower()
    codename = meta.get("VERSION_CODENAME") or meta.get("UBUNTU_CODENAME") or ""
    return distro_id, codename


def id_like(facts: dict | None) -> list[str]:
    meta = (facts or {}).get("release_meta") or {}
    return (meta.get("ID_LIKE") or "").lower().split()

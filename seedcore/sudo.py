"""How the deploy's own commands (those it runs outside an operation's yield: the
lock, the archive) ask for root: as the host's data asks pyinfra to (`_sudo`)."""


def sudo_args(host) -> dict:
    """pyinfra's connector arguments for root on `host`, from its data (`_sudo`, `_sudo_user`)."""
    return {key: host.data.get(key) for key in ("_sudo", "_sudo_user") if host.data.get(key)}

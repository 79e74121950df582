"""How the deploy's own commands (those it runs outside an operation's yield: the
lock, the archive, preflight's sudo check) ask for root: as the host's data asks
pyinfra to (`_sudo`, `_sudo_user`), with the password pyinfra was given for it
(`_sudo_password`, or `--same-sudo-password`), which pyinfra hands sudo through
its askpass helper, never on a command line."""


def sudo_args(host) -> dict:
    """pyinfra's connector arguments for root on `host`, from its data and the run's config."""
    args = {key: host.data.get(key) for key in ("_sudo", "_sudo_user") if host.data.get(key)}
    config = getattr(getattr(host, "state", None), "config", None)
    password = host.data.get("_sudo_password") or getattr(config, "SUDO_PASSWORD", None)
    if args.get("_sudo") and password:
        args["_sudo_password"] = password
    return args

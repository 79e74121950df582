"""The deploy's own commands ask for root as the host's data asks pyinfra to, with the
password pyinfra was given (data or --same-sudo-password), so sudo never prompts."""

from types import SimpleNamespace

from seedcore.sudo import sudo_args


def host(data: dict, config_password: str | None = None):
    config = SimpleNamespace(SUDO_PASSWORD=config_password)
    return SimpleNamespace(data=data, state=SimpleNamespace(config=config))


def test_the_hosts_sudo_password_goes_with_sudo():
    assert sudo_args(host({"_sudo": True, "_sudo_password": "pw"})) == {"_sudo": True, "_sudo_password": "pw"}


def test_the_password_asked_once_for_every_host_goes_with_sudo():
    assert sudo_args(host({"_sudo": True}, "once")) == {"_sudo": True, "_sudo_password": "once"}


def test_no_password_without_sudo_or_without_one_given():
    assert sudo_args(host({"_sudo_password": "pw"}, "once")) == {}
    assert sudo_args(host({"_sudo": True, "_sudo_user": "ray"})) == {"_sudo": True, "_sudo_user": "ray"}

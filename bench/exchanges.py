"""What a pyinfra run asks of each host over SSH, in figures that do not depend on
how busy the machine is: SSH sessions (each one command), `direct-tcpip` channels
(each one check's connection) and rounds (exchanges that had to wait for the one
before: the longest chain of them on the host, each begun after the last ended).

    python -m bench.exchanges [--json PATH] -- -y INVENTORY deploy/verify.py

runs pyinfra's CLI in this process with paramiko's channels watched, then prints
one line per host (and, with --json, writes them). An exchange lasts from the
channel's open request to its close. A run that waits for nothing has as many
rounds as steps that need the one before; sequential checks add one round each.
"""

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass, field


@dataclass
class HostExchanges:
    sessions: int = 0
    channels: int = 0
    rounds: int = 0
    # (kind, began, ended) on the time.monotonic clock; ended None while open.
    spans: list = field(default_factory=list, repr=False)

    def summary(self) -> dict:
        return {key: value for key, value in asdict(self).items() if key != "spans"}


def rounds(spans: list[tuple[float, float]]) -> int:
    """The longest chain of spans (began, ended), each beginning at or after the
    previous one ended: the exchanges that waited one for another."""
    chain, free_at = 0, float("-inf")
    for began, ended in sorted(spans, key=lambda span: span[1]):
        if began >= free_at:
            chain, free_at = chain + 1, ended
    return chain


class Watch:
    """Counts the channels each SSH peer opens, by kind, and when each closes."""

    def __init__(self, now=time.monotonic):
        self.now = now
        self.hosts: dict[str, HostExchanges] = {}

    def opened(self, peer: str, kind: str) -> list:
        host = self.hosts.setdefault(peer, HostExchanges())
        if kind == "session":
            host.sessions += 1
        elif kind == "direct-tcpip":
            host.channels += 1
        span = [kind, self.now(), None]
        host.spans.append(span)
        return span

    def closed(self, span: list) -> None:
        if span[2] is None:
            span[2] = self.now()

    def figures(self) -> dict[str, dict]:
        ended = self.now()
        for host in self.hosts.values():
            host.rounds = rounds([(began, end if end is not None else ended) for _, began, end in host.spans])
        return {peer: host.summary() for peer, host in sorted(self.hosts.items())}


def install(watch: Watch) -> None:
    """Watch every channel paramiko opens from now on (this process only)."""
    import paramiko

    open_channel = paramiko.Transport.open_channel
    set_closed = paramiko.Channel._set_closed

    def watched_open(transport, kind, *args, **kwargs):
        peer = transport.getpeername()[0]
        span = watch.opened(peer, kind)
        try:
            channel = open_channel(transport, kind, *args, **kwargs)
        except Exception:
            watch.closed(span)
            raise
        channel.seedcore_span = span
        return channel

    def watched_closed(channel):
        span = getattr(channel, "seedcore_span", None)
        if span is not None:
            watch.closed(span)
        return set_closed(channel)

    paramiko.Transport.open_channel = watched_open
    paramiko.Channel._set_closed = watched_closed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.exchanges", description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument("pyinfra_args", nargs=argparse.REMAINDER, help="-- then pyinfra's arguments")
    args = parser.parse_args(argv)
    pyinfra_args = args.pyinfra_args[1:] if args.pyinfra_args[:1] == ["--"] else args.pyinfra_args
    import pyinfra_cli  # noqa: F401 (patches the interpreter for gevent first, as the pyinfra command does)
    from pyinfra_cli.main import main as pyinfra_main

    watch = Watch()
    install(watch)
    sys.argv = ["pyinfra", *pyinfra_args]
    try:
        pyinfra_main()
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    figures = watch.figures()
    for peer, counts in figures.items():
        print(f"{peer}: {counts['sessions']} sessions, {counts['channels']} channels, "
              f"{counts['rounds']} rounds", file=sys.stderr)
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"exit": code, "hosts": figures}, out, indent=2)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

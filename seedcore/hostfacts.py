"""Facts read once per host and kept while they hold, instead of once per operation.

`read_fact(host, Fact, **kwargs)` answers like `host.get_fact` (pyinfra 3
keeps no fact cache: each call is one SSH command). When the run keeps a
snapshot of the host (`prefetch`, one bundled command per host, all hosts at
once), a fact in it is answered from there while it still holds, and the run
has not stopped to show its plan between (without `-y`, pyinfra shows the
changes and waits for a yes: the hosts are read again once it executes).

Once a host's snapshot is taken, pyinfra's own operations (apt.packages,
files.put, systemd.service, ...) read their facts through `read_fact` too: the
host's `get_fact` answers from it (`feed_facts`, seedcore/pyinfra_seam.py).

What "holds" depends on the fact (`CHANGED_BY`). The Docker CLI facts
(containers, images, Compose) hold while no operation has run a command on any
host (a head that restarts changes what its workers' containers do); the
others (files, packages, apt sources, services) hold while no operation has
run a command on this host. A fact that no longer holds is read again with the
rest of its kind (the host's operation facts of that kind) in one command: a
file step re-reads the host's files and packages, never its containers. A
fact an operation reads that the snapshot lacks is read on its own, and kept
in the host's bundle from then on; the run counts these misses (`fact_misses`).
"""

import posixpath

from gevent.pool import Pool
from pyinfra.api.state import BaseStateCallback
from pyinfra.context import ctx_host
from pyinfra.facts.apt import AptSources
from pyinfra.facts.deb import DebPackages
from pyinfra.facts.files import Directory, File, Sha1File, Sha256File
from pyinfra.facts.systemd import SystemdEnabled, SystemdStatus

from seedcore.facts.apt import HeldPackages, KeyringFingerprints
from seedcore.facts.bundle import BUNDLEABLE, FactBundle, FactFailed, fact_key
from seedcore.facts.docker import ComposeCli, ComposeVersion, ImageId, ProjectContainers
from seedcore.facts.host import FileText, MaskedFileText
from seedcore.pyinfra_seam import fail_host, feed_facts, operation_done, parallel_limit, read_itself
from seedcore.run_context import run_of

CLUSTER, LOCAL = "cluster", "local"

# The one place staleness is classified: the facts the deploy's steps decide
# with, by whose commands make them stale. CLUSTER: any host's (the Docker CLI
# facts: a head that restarts changes what its workers' containers do; each
# read is a Docker CLI call). LOCAL: the host's own (files, packages, apt
# sources, services). Once stale, a fact of this table is read again with the
# rest of its kind in one command; any other fact a snapshot holds is LOCAL,
# and is dropped then (read on its own from then on).
CHANGED_BY = {
    **dict.fromkeys((ProjectContainers, ComposeCli, ComposeVersion, ImageId), CLUSTER),
    **dict.fromkeys((FileText, MaskedFileText, File, Sha1File, Sha256File, Directory, DebPackages,
                     AptSources, HeldPackages, KeyringFingerprints, SystemdStatus, SystemdEnabled), LOCAL),
}


def kind_of(cls) -> str:
    """Which commands make a fact of this class stale: any host's (CLUSTER) or its host's own (LOCAL)."""
    return CHANGED_BY.get(cls, LOCAL)


def unit_name(service: str) -> str:
    """systemd's name for a service: "docker" -> "docker.service"."""
    return service if "." in service else f"{service}.service"


def service_reads(service: str) -> list:
    """The facts pyinfra's systemd.service reads for this service, as [Fact, kwargs] pairs."""
    return [[SystemdStatus, {"services": [unit_name(service)]}],
            [SystemdEnabled, {"services": [unit_name(service)]}]]


def file_reads(path: str) -> list:
    """The facts pyinfra's files.put reads for this file: the file, its digest,
    its parent directory (made when missing), and the path as a directory (read
    only while the file is missing)."""
    return [[File, {"path": path}], [Sha1File, {"path": path}], [Directory, {"path": path}],
            [Directory, {"path": posixpath.dirname(path)}]]


def root_only_reads(path: str) -> list:
    """The facts seedcore/operations/secret_files.py reads for a root-only file."""
    return [[Sha256File, {"path": path}], [File, {"path": path}]]


def container_reads(settings: dict) -> list:
    """The ProjectContainers read for these settings (compose project and node names)."""
    return [ProjectContainers, {
        "project": settings["ray_compose_project"],
        "names": [settings["ray_head_container"], settings["ray_worker_container"]],
    }]


def project_containers(host, settings: dict, fresh: bool = False) -> list[dict]:
    """`host`'s ProjectContainers for these settings (its compose project and
    node names); `fresh` reads them now, past any snapshot."""
    cls, kwargs = container_reads(settings)
    return read_itself(host, cls, kwargs) if fresh else read_fact(host, cls, **kwargs)


def operation_reads(settings: dict, files: tuple = (), root_only: tuple = ()) -> list:
    """The facts the node's operations decide with: the small `files` they read,
    and the digest and mode of the `root_only` files they write."""
    return [
        container_reads(settings),
        [ComposeCli, {}],
        [ImageId, {"image": settings["ray_image"]}],
        *[[FileText, {"path": path}] for path in files],
        *[read for path in root_only for read in root_only_reads(path)],
    ]


def _snapshots(state) -> dict:
    return run_of(state).snapshots


class CommandTally(BaseStateCallback):
    """The operations that ran commands, per host and in all, kept as pyinfra
    reports each operation finishing on a host (one look per finished
    operation, where scanning every host's operations on each read grows with
    hosts times operations). pyinfra reports an operation just before it sets
    its result: one whose result is not set yet stays `finishing` until it is."""

    def __init__(self):
        self.finishing: dict = {}
        self.ran: dict = {}
        self.total = 0

    def operation_host_success(self, state, host, op_hash, retry_count: int = 0):
        self.finishing.setdefault(host, []).append(op_hash)

    def operation_host_error(self, state, host, op_hash, retry_count: int = 0, max_retries: int = 0):
        self.finishing.setdefault(host, []).append(op_hash)

    def settle(self, state, host) -> None:
        """Count `host`'s finished operations whose result is now set."""
        waiting = []
        for op_hash in self.finishing.pop(host, []):
            done, ran = operation_done(state, host, op_hash)
            if not done:
                waiting.append(op_hash)
            elif ran:
                self.ran[host] = self.ran.get(host, 0) + 1
                self.total += 1
        if waiting:
            self.finishing[host] = waiting

    def progress(self, state, host=None) -> tuple[int, tuple]:
        """(operations that ran commands, operations finishing): on `host`, or on any host."""
        for each in [host] if host is not None else list(self.finishing):
            self.settle(state, each)
        if host is not None:
            return self.ran.get(host, 0), tuple(self.finishing.get(host, ()))
        return self.total, tuple((name, op) for name, ops in self.finishing.items() for op in ops)


def _tally(state) -> CommandTally:
    """The run's CommandTally, registered the first time a snapshot is stamped
    (while the deploy files load, before any operation runs)."""
    run = run_of(state)
    if run.tally is None:
        run.tally = CommandTally()
        state.add_callback_handler(run.tally)
    return run.tally


def _progress(state, host=None) -> tuple[int, tuple]:
    tally = _tally(state)
    return tally.progress(state, host) if state.is_executing else (0, ())


def commands_run(state, host=None) -> int:
    """How many operations have run commands in this run so far: on `host`,
    or on any host (one whose result pyinfra is setting counts as having run).
    0 while the run is planned (nothing runs then)."""
    ran, finishing = _progress(state, host)
    return ran + len(finishing)


def _stamp(state, host, kind: str) -> tuple:
    # Under -y no plan is shown, so nothing waits between planning and executing.
    shown_plan = bool(getattr(state, "check_for_changes", True))
    # The operations still finishing are part of the stamp: once their results
    # are set the stamp differs, whether they ran commands or not.
    return bool(state.is_executing) and shown_plan, _progress(state, None if kind == CLUSTER else host)


def fact_misses(state) -> dict[str, list[str]]:
    """{host name: [fact key, ...]}: operation facts this run read outside a host's snapshot."""
    return run_of(state).fact_misses


def _missed(state, host, cls, kwargs: dict, reads: list) -> None:
    run_of(state).fact_misses.setdefault(host.name, []).append(fact_key(cls, kwargs))
    reads.append([cls, dict(kwargs)])


def fact_failures(state) -> dict[str, list[str]]:
    """{host name: [line, ...]}: the facts whose command failed in this run, each failing its host."""
    return run_of(state).fact_failures


def _checked(host, reads: list, values: list) -> list:
    """The bundle's values, each failed fact failing its host as pyinfra's get_fact
    does (one line naming the host, the fact and what its command said) and
    standing for its default in what follows (the host runs nothing more)."""
    checked = []
    for (cls, _), value in zip(reads, values, strict=False):
        if isinstance(value, FactFailed):
            run_of(host.state).fact_failures.setdefault(host.name, []).append(value.line())
            fail_host(host, value.line())
            value = cls.default()
        checked.append(value)
    return checked


def _read(host, reads: list) -> dict:
    # Each fact once (files in one directory each read it).
    reads = list({fact_key(cls, kwargs): [cls, kwargs] for cls, kwargs in reads}.values())
    wire = [[cls.__name__, kwargs] for cls, kwargs in reads]
    values = _checked(host, reads, read_itself(host, FactBundle, {"reads": wire}))
    # A fact the bundle gave no section for is left out: read on its own when asked.
    return {fact_key(cls, kwargs): value for (cls, kwargs), value in zip(reads, values, strict=False)}


def read_now(host, reads: list) -> list:
    """Read `reads` ([Fact, kwargs] pairs) on `host` now, in one command, past
    any snapshot (and kept in none): their values in the order of `reads`. A
    fact that failed fails the host (`_checked`); one the command gave no section
    for is read on its own, by pyinfra (which fails the host if it fails)."""
    values = _checked(host, reads, read_itself(
        host, FactBundle, {"reads": [[cls.__name__, kwargs] for cls, kwargs in reads]}))
    return [*values, *[read_itself(host, cls, kwargs) for cls, kwargs in reads[len(values):]]]


def read_bundle(host, reads: list) -> dict:
    """Read `reads` ([Fact, kwargs] pairs) on `host` in one command and keep
    them as the host's snapshot; returns {fact_key: value}."""
    state = host.state
    stamps = {kind: _stamp(state, host, kind) for kind in (CLUSTER, LOCAL)}
    snapshot = _read(host, reads)
    _snapshots(state)[host.name] = (stamps, snapshot, list(reads))
    # From now on pyinfra's own operations read their facts through read_fact.
    feed_facts(host, lambda cls, kwargs: read_fact(host, cls, **kwargs))
    return snapshot


def add_to_bundle(host, reads: list) -> dict:
    """Read `reads` on `host` in one command and add them to its snapshot (taken
    by read_bundle): facts whose arguments come from the snapshot's answers."""
    stamps, snapshot, kept = _snapshots(host.state)[host.name]
    added = _read(host, reads)
    snapshot.update(added)
    kept += reads
    return added


def _refreshed(host, kind: str, stamps: dict, snapshot: dict, reads: list) -> None:
    """Read the host's operation facts of this kind again, in one command; drop
    the other facts of this kind (read on their own from then on)."""
    # Stamped before the read: a step that ends while it is under way makes it stale.
    stamp = _stamp(host.state, host, kind)
    again = [read for read in reads if read[0] in CHANGED_BY and kind_of(read[0]) == kind]
    for key in [key for key in snapshot if kind_of(BUNDLEABLE[key.split("(", 1)[0]]) == kind]:
        del snapshot[key]
    snapshot.update(_read(host, again) if again else {})
    stamps[kind] = stamp


def prefetch(state, reads_for, add: bool = False) -> None:
    """Read each active host's `reads_for(host)` in one command, all hosts at
    once (as pyinfra's get_facts does, in a pool of its own: while the deploy
    file loads, pyinfra's pool is full of the hosts loading it). With `add`,
    the reads join each host's snapshot (a host with none to read is skipped)."""
    hosts = list(state.inventory.get_active_hosts())

    def read(host):
        with ctx_host.use(host):
            reads = reads_for(host)
            if not add:
                read_bundle(host, reads)
            elif reads:
                add_to_bundle(host, reads)

    pool = Pool(parallel_limit(state, len(hosts)))
    for host in hosts:
        pool.spawn(read, host)
    pool.join(raise_error=True)


def read_fact(host, cls, **kwargs):
    """`host.get_fact(cls, **kwargs)`, answered from the host's snapshot while it holds."""
    state = host.state
    kept = run_of(state).snapshots.get(host.name)
    if kept is None or cls.__name__ not in BUNDLEABLE:
        return read_itself(host, cls, kwargs)
    stamps, snapshot, reads = kept
    kind = kind_of(cls)
    if stamps[kind] != _stamp(state, host, kind):
        _refreshed(host, kind, stamps, snapshot, reads)
    key = fact_key(cls, kwargs)
    if key in snapshot:
        return snapshot[key]
    value = read_itself(host, cls, kwargs)
    if cls in CHANGED_BY:
        _missed(state, host, cls, kwargs, reads)
        snapshot[key] = value
    return value

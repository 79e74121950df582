"""Several facts read with one command: one SSH round trip instead of one per fact."""

import inspect
from dataclasses import dataclass
from functools import cache

from pyinfra.api import FactBase
from pyinfra.api.command import QuoteString, StringCommand
from pyinfra.facts.apt import AptSources
from pyinfra.facts.deb import DebArch, DebPackages
from pyinfra.facts.files import Directory, File, Sha1File, Sha256File
from pyinfra.facts.server import LinuxDistribution
from pyinfra.facts.systemd import SystemdEnabled, SystemdStatus

from seedcore.facts.apt import AptRelease, HeldPackages, KeyringFingerprints
from seedcore.facts.docker import (
    ComposeCli,
    ComposeVersion,
    DockerEngine,
    ImageId,
    LogSignatureCounts,
    ProjectContainers,
)
from seedcore.facts.gpu import ContainerGpus, DockerRuntimes, NvidiaGpus
from seedcore.facts.host import (
    ActiveFirewalls,
    DiskAvailableMb,
    EpochSeconds,
    FileText,
    ListeningPorts,
    MaskedFileText,
)
from seedcore.facts.ray import GcsStorageType
from seedcore.pyinfra_seam import fact_kwargs_text

# The facts a bundle may carry, by class name (each fact's own command and process are used).
BUNDLEABLE = {
    cls.__name__: cls
    for cls in (
        ActiveFirewalls, AptRelease, AptSources, ComposeCli, ComposeVersion, ContainerGpus, DebArch,
        DebPackages, Directory, DiskAvailableMb, DockerEngine, DockerRuntimes, EpochSeconds, File, FileText,
        GcsStorageType, HeldPackages, ImageId, KeyringFingerprints, LinuxDistribution, ListeningPorts,
        LogSignatureCounts, MaskedFileText, NvidiaGpus, ProjectContainers, Sha1File, Sha256File,
        SystemdEnabled, SystemdStatus,
    )
}

# Printed after each fact's output, on a line of its own, with the fact's place
# in the bundle, its name and its exit status; no fact prints a line starting so.
SECTION_END = "### seedcore-fact-end"
# Before the section's end, each line a fact that failed printed on stderr, so prefixed.
STDERR_LINE = "### seedcore-fact-stderr "

# Facts whose command takes tens of milliseconds or more (the Docker CLI, nvidia-smi, a fetch).
SLOW = {AptRelease, ComposeCli, ComposeVersion, ContainerGpus, DockerEngine, DockerRuntimes, GcsStorageType,
        ImageId, LogSignatureCounts, NvidiaGpus, ProjectContainers}


def _section_end(index: int, name: str) -> str:
    """The end of fact `index`'s section, its exit status in $rc: the stderr it
    printed only when it failed (kept in "$d/INDEX.err" meanwhile)."""
    return (f"printf '\\n'; [ \"$rc\" = 0 ] || sed 's/^/{STDERR_LINE}/' \"$d/{index}.err\";"
            f" printf '{SECTION_END} %s %s %s\\n' {index} {name} \"$rc\";")


def _guarded(fact, kwargs: dict):
    """The fact's command; one that needs a program (pyinfra's ``requires_command``)
    prints nothing where the program is missing, as ``get_fact`` skips it."""
    command = fact.command(**kwargs)
    required = fact.requires_command(**kwargs)
    if not required:
        return command
    return StringCommand("if command -v", QuoteString(required), ">/dev/null 2>&1; then", command, "; fi")


@dataclass(frozen=True)
class FactFailed:
    """A fact of the bundle whose command failed: in its value's place, never its default."""

    name: str
    kwargs: dict
    status: str
    stderr: tuple[str, ...]

    def line(self) -> str:
        """One line, as pyinfra names a fact it could not load, with what the command said."""
        said = " / ".join(line.strip() for line in self.stderr if line.strip()) or "no error output"
        args = f" ({fact_kwargs_text(self.kwargs)})" if self.kwargs else ""
        return f"could not load fact: {self.name}{args}: exit {self.status}: {said}"


@cache
def _defaults(cls) -> dict:
    """The default value of each argument of the fact's command."""
    return {name: parameter.default for name, parameter in inspect.signature(cls.command).parameters.items()
            if parameter.default is not inspect.Parameter.empty}


def fact_key(cls, kwargs: dict) -> str:
    """How a fact read with these arguments is named in a bundle's result. An
    argument given at its default is left out: pyinfra's systemd.service reads
    SystemdStatus(user_mode=False, machine=None, user_name=None, services=[...]),
    the same read as SystemdStatus(services=[...])."""
    defaults = _defaults(cls)
    kwargs = {key: value for key, value in kwargs.items() if key not in defaults or defaults[key] != value}
    return f"{cls.__name__}({fact_kwargs_text(kwargs)})" if kwargs else cls.__name__


class FactBundle(FactBase):
    """
    Several facts of ``BUNDLEABLE`` read with one command, each exactly as
    ``host.get_fact`` would read it: a fact whose command fails is a
    ``FactFailed`` (its name, arguments, exit status and stderr), never its
    default (seedcore/hostfacts.py fails the host with it, as ``get_fact`` does).

    + reads: ``[[fact class name, {argument: value}], ...]``

    Returns the facts' values, in the order of ``reads``.
    """

    @staticmethod
    def default():
        return []

    def command(self, reads: list) -> StringCommand:
        # Kept for process: some of pyinfra's facts remember their arguments in command().
        self.facts = [BUNDLEABLE[name]() for name, _ in reads]
        self.reads = reads
        slow = [index for index, fact in enumerate(self.facts) if type(fact) in SLOW]
        bits: list = ["d=$(mktemp -d) || exit 1;"]
        # The slow facts (each a docker or nvidia-smi call) run side by side,
        # each into its own file, while the others run one after the other
        # (a few milliseconds each: forking for them would cost more). Each
        # fact's stderr waits in a file of its own, printed only if it fails.
        for index in slow:
            bits += ["{ (", _guarded(self.facts[index], reads[index][1]),
                     f') > "$d/{index}" 2> "$d/{index}.err";', f'echo $? > "$d/{index}.rc"; }} &']
        for index, fact in enumerate(self.facts):
            if index not in slow:
                bits += ["(", _guarded(fact, reads[index][1]), f') 2> "$d/{index}.err"; rc=$?;',
                         _section_end(index, reads[index][0])]
        if slow:
            bits.append("wait;")
            for index in slow:
                bits += [f'cat "$d/{index}"; read -r rc < "$d/{index}.rc";',
                         _section_end(index, reads[index][0])]
        bits.append('rm -rf "$d"')
        return StringCommand(*bits)

    def process(self, output):
        kept = getattr(self, "facts", [])
        asked = getattr(self, "reads", [])
        values: dict[int, object] = {}
        lines: list[str] = []
        stderr: list[str] = []
        for line in output:
            if line.startswith(STDERR_LINE):
                stderr.append(line[len(STDERR_LINE):])
                continue
            if not line.startswith(SECTION_END):
                lines.append(line)
                continue
            index, name, status = (line[len(SECTION_END):].split() + ["", "", ""])[:3]
            # The section end starts on a line of its own: when the output
            # ended with a newline, that leaves one empty line, not the fact's.
            if lines and lines[-1] == "":
                lines.pop()
            fact = kept[int(index)] if int(index) < len(kept) else BUNDLEABLE[name]()
            if status != "0":
                kwargs = dict(asked[int(index)][1]) if int(index) < len(asked) else {}
                values[int(index)] = FactFailed(name, kwargs, status, tuple(stderr))
            else:
                values[int(index)] = fact.process(lines) if lines else fact.default()
            lines, stderr = [], []
        return [values[index] for index in sorted(values)]

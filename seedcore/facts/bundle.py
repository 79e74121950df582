"""Several facts read with one command: one SSH round trip instead of one per fact."""

import inspect
from functools import cache

from pyinfra.api import FactBase
from pyinfra.api.command import StringCommand
from pyinfra.facts.apt import AptSources
from pyinfra.facts.deb import DebArch, DebPackages
from pyinfra.facts.files import Directory, File, Sha1File, Sha256File
from pyinfra.facts.server import LinuxDistribution
from pyinfra.facts.systemd import SystemdEnabled, SystemdStatus

from seedcore.facts.apt import AptRelease, KeyringFingerprints
from seedcore.facts.docker import (
    ComposeCli,
    ComposeVersion,
    DockerEngine,
    ImageId,
    LogSignatureCounts,
    ProjectContainers,
)
from seedcore.facts.gpu import ContainerGpus, DockerRuntimes, NvidiaGpus
from seedcore.facts.host import ActiveFirewalls, DiskAvailableMb, EpochSeconds, FileText, ListeningPorts
from seedcore.facts.ray import GcsStorageType
from seedcore.pyinfra_seam import fact_kwargs_text

# The facts a bundle may carry, by class name (each fact's own command and process are used).
BUNDLEABLE = {
    cls.__name__: cls
    for cls in (
        ActiveFirewalls, AptRelease, AptSources, ComposeCli, ComposeVersion, ContainerGpus, DebArch,
        DebPackages, Directory, DiskAvailableMb, DockerEngine, DockerRuntimes, EpochSeconds, File, FileText,
        GcsStorageType, ImageId, KeyringFingerprints, LinuxDistribution, ListeningPorts, LogSignatureCounts,
        NvidiaGpus, ProjectContainers, Sha1File, Sha256File, SystemdEnabled, SystemdStatus,
    )
}

# Printed after each fact's output, on a line of its own, with the fact's place
# in the bundle, its name and its exit status; no fact prints a line starting so.
SECTION_END = "### seedcore-fact-end"

# Facts whose command takes tens of milliseconds or more (the Docker CLI, nvidia-smi, a fetch).
SLOW = {AptRelease, ComposeCli, ComposeVersion, ContainerGpus, DockerEngine, DockerRuntimes, GcsStorageType,
        ImageId, LogSignatureCounts, NvidiaGpus, ProjectContainers}


def _section_end(index: int, name: str, status: str) -> str:
    return f"printf '\\n{SECTION_END} %s %s %s\\n' {index} {name} {status};"


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
    ``host.get_fact`` would read it (a fact whose command fails is its
    ``default()``, as with ``get_fact``).

    + reads: ``[[fact class name, {argument: value}], ...]``

    Returns the facts' values, in the order of ``reads``.
    """

    @staticmethod
    def default():
        return []

    def command(self, reads: list) -> StringCommand:
        # Kept for process: some of pyinfra's facts remember their arguments in command().
        self.facts = [BUNDLEABLE[name]() for name, _ in reads]
        slow = [index for index, fact in enumerate(self.facts) if type(fact) in SLOW]
        bits: list = ["d=$(mktemp -d) || exit 1;"] if slow else []
        # The slow facts (each a docker or nvidia-smi call) run side by side,
        # each into its own file, while the others run one after the other
        # (a few milliseconds each: forking for them would cost more).
        for index in slow:
            bits += ["{ (", self.facts[index].command(**reads[index][1]), f') > "$d/{index}" 2>/dev/null;',
                     f'echo $? > "$d/{index}.rc"; }} &']
        for index, fact in enumerate(self.facts):
            if index not in slow:
                bits += ["(", fact.command(**reads[index][1]), ") 2>/dev/null;",
                         _section_end(index, reads[index][0], '"$?"')]
        if slow:
            bits.append("wait;")
            for index in slow:
                bits += [f'cat "$d/{index}"; read -r rc < "$d/{index}.rc";',
                         _section_end(index, reads[index][0], '"$rc"')]
            bits.append('rm -rf "$d"')
        return StringCommand(*bits)

    def process(self, output):
        kept = getattr(self, "facts", [])
        values: dict[int, object] = {}
        lines: list[str] = []
        for line in output:
            if not line.startswith(SECTION_END):
                lines.append(line)
                continue
            index, name, status = (line[len(SECTION_END):].split() + ["", "", ""])[:3]
            # The section end starts on a line of its own: when the output
            # ended with a newline, that leaves one empty line, not the fact's.
            if lines and lines[-1] == "":
                lines.pop()
            fact = kept[int(index)] if int(index) < len(kept) else BUNDLEABLE[name]()
            values[int(index)] = fact.process(lines) if status == "0" and lines else fact.default()
            lines = []
        return [values[index] for index in sorted(values)]

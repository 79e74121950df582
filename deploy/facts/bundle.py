"""Several facts read with one command: one SSH round trip instead of one per fact."""

from pyinfra.api import FactBase
from pyinfra.api.command import StringCommand
from pyinfra.api.util import get_kwargs_str
from pyinfra.facts.apt import AptSources
from pyinfra.facts.deb import DebArch, DebPackages
from pyinfra.facts.files import Directory, File, Sha256File
from pyinfra.facts.server import LinuxDistribution
from pyinfra.facts.systemd import SystemdEnabled, SystemdStatus

from deploy.facts.apt import KeyringFingerprints
from deploy.facts.docker import ComposeCli, ComposeVersion, DockerEngine, ImageId, ProjectContainers
from deploy.facts.gpu import NvidiaGpus
from deploy.facts.host import DiskAvailableMb, EpochSeconds, FileText, ListeningPorts

# The facts a bundle may carry, by class name (each fact's own command and process are used).
BUNDLEABLE = {
    cls.__name__: cls
    for cls in (
        AptSources, ComposeCli, ComposeVersion, DebArch, DebPackages, Directory, DiskAvailableMb,
        DockerEngine, EpochSeconds, File, FileText, ImageId, KeyringFingerprints, LinuxDistribution,
        ListeningPorts, NvidiaGpus, ProjectContainers, Sha256File, SystemdEnabled, SystemdStatus,
    )
}

# Printed after each fact's output with its exit status; no fact prints a line starting so.
SECTION_END = "### seedcore-fact-end"


def fact_key(cls, kwargs: dict) -> str:
    """How a fact read with these arguments is named in a bundle's result."""
    return f"{cls.__name__}({get_kwargs_str(kwargs)})" if kwargs else cls.__name__


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
        # Every fact's command at once (each writes its own file), then their
        # outputs in order: the command takes as long as its slowest fact.
        bits: list = ["d=$(mktemp -d) || exit 1;"]
        for index, fact in enumerate(self.facts):
            kwargs = reads[index][1]
            bits += ["{ (", fact.command(**kwargs), f') > "$d/{index}" 2>/dev/null;',
                     f'echo $? > "$d/{index}.rc"; }} &']
        bits.append("wait;")
        for index, (name, _) in enumerate(reads):
            # An output whose last line has no newline (a file's text) gets one,
            # or that line would swallow the section's end.
            bits += [f'cat "$d/{index}"; [ -z "$(tail -c 1 "$d/{index}")" ] || echo; echo',
                     f"'{SECTION_END} {name}'", f'"$(cat "$d/{index}.rc")";']
        bits.append('rm -rf "$d"')
        return StringCommand(*bits)

    def process(self, output):
        values, lines = [], []
        for line in output:
            if not line.startswith(SECTION_END):
                lines.append(line)
                continue
            name, _, status = line[len(SECTION_END):].strip().partition(" ")
            kept = getattr(self, "facts", [])
            fact = kept[len(values)] if len(values) < len(kept) else BUNDLEABLE[name]()
            values.append(fact.process(lines) if status.strip() == "0" and lines else fact.default())
            lines = []
        return values

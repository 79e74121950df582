"""A fake host for running the deploy's operations and facts without SSH.

Modelled on pyinfra's own test utilities: an operation runs against a
`FakeHost` whose facts come from a fixture, and its yielded commands are
collected as strings. Fixtures key facts by class name, e.g.::

    "facts": {
        "ComposeCli": "docker compose",
        "ProjectContainers": {CONTAINERS_KEY: [...]},
    }

A fact read with arguments looks its value up by pyinfra's own kwargs string
(``get_kwargs_str``), so a fixture that forgets an argument fails loudly.
"""

import base64
import inspect
import json
from pathlib import Path
from types import SimpleNamespace

from pyinfra.api.command import FileUploadCommand, StringCommand
from pyinfra.api.util import get_kwargs_str, sha1_hash
from pyinfra.context import ctx_host, ctx_state

from seedcore.defaults import ALL_DEFAULTS
from seedcore.topology import Node

TESTS_DIR = Path(__file__).parent

# How a fixture keys ProjectContainers read with the default project and node names.
CONTAINERS_KEY = "names=['seedcore-ray-head', 'seedcore-ray-worker'], project=seedcore"

# The image every fixture node runs unless its settings say otherwise.
DEFAULT_IMAGE = "registry.example.com/seedcore/ray:2.20.0"


class FakeData(dict):
    """Host data as pyinfra exposes it: `data.key`, `data.get(key)`, `data.dict()`."""

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key, value):
        self[key] = value

    def dict(self):
        return dict(self)


class FailedHost:
    """What `state.failed_hosts` holds: something with a name."""

    def __init__(self, name: str):
        self.name = name

    def __repr__(self):
        return f"FailedHost({self.name!r})"


class FakeState:
    """A run being planned (as under --dry): `is_executing` is False."""

    def __init__(self, failed_hosts=(), is_executing=False):
        self.failed_hosts = {FailedHost(name) for name in failed_hosts}
        self.is_executing = is_executing
        # What pyinfra's own operations (files.put) read of the run's config.
        self.config = SimpleNamespace(DIFF=False)
        self.cwd = None
        self.callback_handlers: list = []

    def add_callback_handler(self, handler) -> None:
        self.callback_handlers.append(handler)

    def trigger_callbacks(self, method_name: str, *args) -> None:
        """As pyinfra's State: each handler's method, with the state first."""
        for handler in self.callback_handlers:
            getattr(handler, method_name)(self, *args)


class FakeHost:
    """A host whose facts come from a fixture dict and whose noops are recorded."""

    def __init__(self, name="node-1", data=None, groups=(), facts=None, failed_hosts=()):
        self.name = name
        self.data = FakeData(data or {})
        self.groups = list(groups)
        self.facts = facts or {}
        self.state = FakeState(failed_hosts)
        self.noops: list[str] = []
        self.fact_calls: list[tuple[str, dict]] = []
        self.current_op_global_arguments: dict = {}

    def get_fact(self, cls, **kwargs):
        key = cls.__name__
        self.fact_calls.append((key, kwargs))
        if key == "FactBundle" and key not in self.facts:
            # One command reading several facts: each answered as the fixture answers it alone.
            return [self._fixture(name, read) for name, read in kwargs["reads"]]
        return self._fixture(key, kwargs)

    def _fixture(self, key: str, kwargs: dict):
        if key not in self.facts:
            raise KeyError(f"the fixture has no fact {key} (asked with {kwargs!r})")
        value = self.facts[key]
        if kwargs and _is_kwargs_mapping(value):
            wanted = get_kwargs_str(kwargs)
            if wanted not in value:
                raise KeyError(f"the fixture's {key} has no entry {wanted!r}, only {sorted(value)!r}")
            return value[wanted]
        return value

    def noop(self, description: str) -> None:
        self.noops.append(description)

    def get_temp_filename(self, hash_key: str | None = None, hash_filename: bool = True, *,
                          temp_directory: str | None = None) -> str:
        """As pyinfra's Host names an upload's temporary file (under /tmp)."""
        key = sha1_hash(hash_key) if hash_filename and hash_key else hash_key
        return f"{temp_directory or '/tmp'}/pyinfra-{key}"


class Step:
    """An executed operation's result, as pyinfra's OperationMeta answers it
    (for an operation that follows it, once the run executes)."""

    def __init__(self, changed: bool):
        self.changed = changed

    def did_change(self) -> bool:
        return self.changed


def executing_host(**kwargs) -> FakeHost:
    """A host whose run is executing (past planning); no facts unless given."""
    host = FakeHost(**{"facts": {}, **kwargs})
    host.state.is_executing = True
    return host


def _is_kwargs_mapping(value) -> bool:
    return isinstance(value, dict) and bool(value) and all("=" in str(key) for key in value)


def make_settings(overrides: dict | None = None) -> dict:
    return {**ALL_DEFAULTS, "ray_image": DEFAULT_IMAGE, **(overrides or {})}


def make_node(role="head", address="10.0.0.10", head_address="10.0.0.10", name=None,
              settings=None, gcs_store="", gcs_store_password="") -> Node:
    """A Node with every default, the test image, and `settings` merged over them."""
    return Node(
        name=name or f"{role}-1",
        role=role,
        address=address,
        head_address=head_address,
        settings=make_settings(settings),
        gcs_store=gcs_store,
        gcs_store_password=gcs_store_password,
    )


def node_from_fixture(spec: dict) -> Node:
    return make_node(
        role=spec.get("role", "head"),
        address=spec.get("address", "10.0.0.10"),
        head_address=spec.get("head_address", "10.0.0.10"),
        name=spec.get("name"),
        settings=spec.get("settings"),
        gcs_store=spec.get("gcs_store", ""),
    )


def command_text(command) -> str:
    """The shell text of a command, as bash would run it."""
    if isinstance(command, FileUploadCommand):
        return f"upload {command.dest}: {command.src.getvalue()}"
    if isinstance(command, StringCommand):
        return command.get_raw_value()
    if isinstance(command, str):
        return command.strip()
    return str(command)


def command_stdin(command) -> str | None:
    """What a command is given on stdin (the ``_stdin`` connector argument), if anything."""
    return getattr(command, "connector_arguments", {}).get("_stdin")


def command_shown(command) -> str:
    """A command as a fixture lists it: its shell text, then, for one fed on
    stdin, ``<<<`` and the text it receives (base64-decoded)."""
    stdin = command_stdin(command)
    if stdin is None:
        return command_text(command)
    return f"{command_text(command)} <<< {base64.b64decode(stdin).decode()}"


def run_operation(op, host: FakeHost, **kwargs) -> list[str]:
    """Run an operation's body on `host`; return its commands as fixtures list them."""
    with ctx_state.use(host.state), ctx_host.use(host):
        return [command_shown(command) for command in op._inner(**kwargs)]


def takes_node(op) -> bool:
    return "node" in inspect.signature(op._inner).parameters


def load_cases(directory: Path) -> list[tuple[str, str, dict]]:
    """(`module.name` directory, case name, fixture) for every JSON fixture below `directory`."""
    cases = []
    for case_dir in sorted(p for p in directory.iterdir() if p.is_dir()):
        for path in sorted(case_dir.glob("*.json")):
            cases.append((case_dir.name, path.stem, json.loads(path.read_text())))
    return cases

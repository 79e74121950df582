"""The pyinfra command line, and the same inventory and deploy file prepared,
inside the test process.

`run_in_process` runs pyinfra's own click command (what the `pyinfra`
executable calls) with the test's arguments, and gives back its exit code and
what it printed; whatever the run sets process-wide (the working directory,
sys.argv, pyinfra's logging handler, its output functions, the SIGINT handler
the deploy installs) is put back afterwards.

`--dry` prints operation names, not what they would write. To read the files
a run would put on a host (the compose file, the apt source) and the plan it
made for each host, this loads the inventory the way the CLI does
(pyinfra_cli's make_inventory, group_data/ included), connects the fake
hosts and runs deploy/cluster.py's preparation: the stage `--dry` stops after.
Nothing is executed.
"""

import base64
import os
import shlex
import signal
import sys
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import click
import gevent
import pyinfra
from click.testing import CliRunner
from pyinfra import logger
from pyinfra.api import Config, State, output
from pyinfra.api.command import FileUploadCommand, StringCommand
from pyinfra.api.connect import connect_all
from pyinfra.context import ctx_config, ctx_host, ctx_inventory, ctx_state
from pyinfra_cli import util as cli_util
from pyinfra_cli.cli import cli
from pyinfra_cli.inventory import make_inventory
from pyinfra_cli.util import load_deploy_file

from seedcore.plan import Plan, plan_for
from tests.cli.cli import CLUSTER, ROOT

# Prepared states stay referenced: the deploy remembers which states it has
# checked by their id(), and a freed state's id may be handed to a new one.
_KEEP: list[State] = []


@dataclass
class Prepared:
    state: State

    @property
    def inventory(self):
        return self.state.inventory

    def host(self, name: str):
        return self.inventory.get_host(name)

    def _commands(self, name: str) -> list:
        host = self.host(name)
        found = []
        with ctx_state.use(self.state), ctx_inventory.use(self.inventory), ctx_host.use(host):
            for op_hash in self.state.get_op_order():
                if op_hash in self.state.ops[host]:
                    found += list(self.state.get_op_data_for_host(host, op_hash).command_generator())
        return found

    def shell(self, name: str) -> list[str]:
        """Every shell command the run would send to host `name`, in order."""
        return [str(command) for command in self._commands(name) if isinstance(command, StringCommand)]

    def uploads(self, name: str) -> dict[str, str]:
        """Every file the run would put on host `name`: destination -> text.
        A file's text travels on the stdin of the command that installs it
        (``commands.file_from_stdin``, which ends by renaming it over its
        destination)."""
        files = {}
        for command in self._commands(name):
            if isinstance(command, FileUploadCommand):
                source = command.src
                files[command.dest] = source.getvalue() if isinstance(source, StringIO) else Path(
                    source).read_text()
            elif isinstance(command, StringCommand) and command.connector_arguments.get("_stdin"):
                text = str(command)
                if " mv -f " in text:
                    dest = shlex.split(text.split(" mv -f ", 1)[1].split(" || ", 1)[0])[1]
                    files[dest] = base64.b64decode(command.connector_arguments["_stdin"]).decode()
        return files


def _state(inventory_path: Path) -> tuple[State, Config]:
    state = State(check_for_changes=True)
    state.cwd = str(ROOT)
    config = Config()
    with ctx_state.use(state), ctx_config.use(config):
        inventory = make_inventory(str(inventory_path), cwd=str(ROOT))
        with ctx_inventory.use(inventory):
            state.init(inventory, config)
            connect_all(state)
    _KEEP.append(state)
    return state, config


def prepare(inventory_path: Path, deploy: str = CLUSTER) -> Prepared:
    """Load the inventory and prepare `deploy` as `pyinfra INVENTORY DEPLOY --dry` does.

    Raises what the deploy raises while preparing (an InventoryError from preflight).
    """
    state, config = _state(inventory_path)
    with ctx_state.use(state), ctx_config.use(config), ctx_inventory.use(state.inventory):
        load_deploy_file(state, str(ROOT / deploy))
    return Prepared(state)


def plans(inventory_path: Path) -> dict[str, Plan]:
    """seedcore.plan.plan_for for every host of the inventory, facts read from its fake hosts."""
    state, config = _state(inventory_path)
    inventory = state.inventory
    found = {}
    with ctx_state.use(state), ctx_config.use(config), ctx_inventory.use(inventory):
        for host in inventory:
            with ctx_host.use(host):
                found[host.name] = plan_for(host, inventory)
    return found


@contextmanager
def _process_wide_settings_kept(argv: list[str], cwd: Path):
    """What pyinfra's `main()` and a run change for the whole process, set as
    the `pyinfra` executable has them and put back afterwards."""
    contexts = (ctx_state, ctx_inventory, ctx_config, ctx_host)
    saved_contexts = [context.get() for context in contexts]
    saved = (sys.argv, os.getcwd(), pyinfra.is_cli, signal.getsignal(signal.SIGINT), list(logger.handlers),
             logger.level, logger.propagate, output._echo, output._format_text, list(sys.path))
    # A file the CLI ran before is compiled once and kept by name: an inventory
    # a test rewrites must be read again.
    cli_util.PYTHON_CODES.clear()
    sys.argv = ["pyinfra", *argv]
    os.chdir(cwd)
    pyinfra.is_cli = True
    output.set_formatter(click.style)
    output.set_echo(click.echo)
    try:
        with warnings.catch_warnings():
            yield
    finally:
        (sys.argv, old_cwd, pyinfra.is_cli, sigint, handlers, level, propagate,
         output._echo, output._format_text, sys.path[:]) = saved
        os.chdir(old_cwd)
        signal.signal(signal.SIGINT, sigint)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate
        for context, module in zip(contexts, saved_contexts, strict=True):
            context.set(module)


def run_in_process(argv: list[str], env: dict[str, str], cwd: Path, timeout_s: float) -> tuple[int, str]:
    """`pyinfra ARGV...` run by pyinfra's own click command in this process:
    (exit code, stdout and stderr as printed)."""
    runner = CliRunner()
    with _process_wide_settings_kept(argv, cwd):
        with gevent.Timeout(timeout_s, AssertionError(f"pyinfra {' '.join(argv)} ran past {timeout_s}s")):
            result = runner.invoke(cli, argv, env=env, prog_name="pyinfra", catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


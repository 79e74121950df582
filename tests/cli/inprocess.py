"""The same inventory and deploy file, prepared inside the test process.

`--dry` prints operation names, not what they would write. To read the files
a run would put on a host (the compose file, the apt source) and the plan it
made for each host, this loads the inventory the way the CLI does
(pyinfra_cli's make_inventory, group_data/ included), connects the fake
hosts and runs deploy/cluster.py's preparation: the stage `--dry` stops after.
Nothing is executed.
"""

import base64
import shlex
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

from pyinfra.api import Config, State
from pyinfra.api.command import FileUploadCommand, StringCommand
from pyinfra.api.connect import connect_all
from pyinfra.context import ctx_config, ctx_host, ctx_inventory, ctx_state
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

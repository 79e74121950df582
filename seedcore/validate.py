"""Checks of the inventory and its data, run before any host is changed.

Each problem is one line naming the inventory file, the host, the key and
the fix. All problems are gathered, then reported together.
"""

import difflib
import os
import re
import sys

import yaml
from pyinfra.api.exceptions import PyinfraError

from seedcore.bastion import bastion_problems
from seedcore.defaults import ALL_DEFAULTS, CHOICES, ENV_KEYS, ENV_NAME, PATTERNS, RANGES, REQUIRED_TYPES
from seedcore.firewall import firewall_problems
from seedcore.gpu import looks_like_gpu_image
from seedcore.ports import describe, node_ports, overlaps
from seedcore.pyinfra_seam import CliRefusal
from seedcore.render import HEALTH_APP_NAME
from seedcore.topology import (
    GCS_STORE_GROUP,
    GPU_GROUP,
    HEAD_GROUP,
    MONITORING_GROUP,
    WORKER_GROUP,
    is_gpu_host,
    node_address,
    settings_for,
)
from seedcore.web import door_problems

KEY_PREFIXES = ("docker_", "ray_", "serve_", "verify_", "gpu_", "rollout_", "monitoring_", "tls_",
                "firewall_", "web_", "connection_")

class InventoryError(PyinfraError, CliRefusal):
    """The inventory or its data is wrong; nothing was changed. pyinfra's command line
    prints it as it is, after `--> pyinfra error: `, with no file and line of ours."""

    def __init__(self, message: str):
        PyinfraError.__init__(self, message)
        CliRefusal.__init__(self, message)


def inventory_name() -> str:
    return next((arg for arg in sys.argv[1:] if arg.endswith(".py")), "the inventory")


def _type_name(expected) -> str:
    return {str: "a string", int: "an integer", bool: "true/false", list: "a list",
            dict: "a mapping"}.get(expected, expected.__name__)


def _type_ok(value, expected) -> bool:
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, expected)


def unknown_keys(host_name: str, data: dict) -> list[str]:
    """Keys with one of our prefixes that are none of ours (likely typos)."""
    problems = []
    for key in data:
        if not key.startswith(KEY_PREFIXES) or key in ALL_DEFAULTS:
            continue
        close = difflib.get_close_matches(key, ALL_DEFAULTS, n=1)
        hint = f"did you mean {close[0]}?" if close else "see docs/data-keys.md"
        problems.append(f"host {host_name}: unknown key {key}: {hint}")
    return problems


def check_keys(host_name: str, data: dict) -> list[str]:
    """Unknown keys of ours (likely typos), wrong types, and unset required keys."""
    return unknown_keys(host_name, data) + key_types(host_name, data)


def key_types(host_name: str, data: dict) -> list[str]:
    """Wrong types and unset required keys: the host's other rules cannot be read past them."""
    problems = []
    for key, default in ALL_DEFAULTS.items():
        value = data.get(key, default)
        expected = REQUIRED_TYPES.get(key) if default is None else type(default)
        if value is None:
            problems.append(f"host {host_name}: {key} must be set (in group_data or the inventory)")
        elif not _type_ok(value, expected):
            problems.append(
                f"host {host_name}: {key} must be {_type_name(expected)}, "
                f"got {type(value).__name__} {value!r}"
            )
    return problems


def check_values(host_name: str, role: str, s: dict) -> list[str]:
    """Ports, image reference and Serve config of one host."""
    problems = port_problems(host_name, role, s)
    image = s["ray_image"]
    if isinstance(image, str) and not _has_tag(image):
        problems.append(
            f"host {host_name}: ray_image {image!r} has no tag: "
            f"pin one, e.g. {image}:{s['ray_version']}"
        )
    secrets = s["ray_secret_env"]
    if isinstance(secrets, dict):
        for name, source in secrets.items():
            if not isinstance(source, str) or not re.fullmatch(ENV_NAME[0], source):
                continue  # check_env reports it
            if source not in os.environ:
                problems.append(
                    f"host {host_name}: ray_secret_env {name} reads ${source}, which is not set "
                    "on this machine: export it (from your secret store) before the run"
                )
            elif CONTROL.search(os.environ[source]):
                # Never the value itself: it is a secret.
                problems.append(
                    f"host {host_name}: ray_secret_env {name} reads ${source}, whose value holds a "
                    "newline, carriage return or NUL (value not shown): an env file line cannot "
                    "carry it; store the secret without them"
                )
    login = s["docker_registry_login"]
    if login and s["docker_registry_password_env"] not in os.environ:
        problems.append(
            f"host {host_name}: docker_registry_login {login} needs the password in "
            f"${s['docker_registry_password_env']} (docker_registry_password_env): export it first"
        )
    problems += [f"host {host_name}: {line}" for line in check_apt_keys(s)]
    problems += check_serve_applications(host_name, s)
    problems += [f"host {host_name}: {line}" for line in check_tls_days(s)]
    return problems


def check_tls_days(s: dict) -> list[str]:
    """Renewal inside a certificate's life, and verify's warning before renewal:
    otherwise every run would issue certificates again, or verify would be red on
    a certificate no run renews yet."""
    cert, renew, warn = s["tls_cert_days"], s["tls_renew_days"], s["tls_expiry_warn_days"]
    if not all(_type_ok(value, int) for value in (cert, renew, warn)):
        return []  # check_keys reports it
    problems = []
    if renew >= cert:
        problems.append(f"tls_renew_days={renew} is not below tls_cert_days={cert}: every run would "
                        "issue the node certificates again (and restart every node); lower it")
    if warn >= max(1, renew // 2):
        problems.append(f"tls_expiry_warn_days={warn} is not below half of tls_renew_days={renew} (when the "
                        "head renews): verify would be red on certificates no run renews yet; lower it")
    return problems


def check_tls_ca(head) -> list[str]:
    """The operators' CA, when given: both files, readable on this machine (read from the head)."""
    s = settings_for(head)
    if not s["tls_enabled"]:
        return []
    cert, key = s["tls_ca_cert"], s["tls_ca_key"]
    if not (isinstance(cert, str) and isinstance(key, str)) or not (cert or key):
        return []
    if not (cert and key):
        return [f"host {head.name}: tls_ca_cert and tls_ca_key go together (the operators' CA): "
                "set both, or neither for the cluster's own CA in tls_dir"]
    return [f"host {head.name}: {name} {path} cannot be read on this machine: give the path of a PEM file"
            for name, path in (("tls_ca_cert", cert), ("tls_ca_key", key)) if not os.access(path, os.R_OK)]


def port_problems(host_name: str, role: str, s: dict) -> list[str]:
    """Two ports (or a port and a range) of one Ray node that overlap, and a
    worker range that runs backwards."""
    entries = node_ports(role, s)
    if not all(_type_ok(low, int) and _type_ok(high, int) and 1 <= low <= high <= 65535
               for _, low, high in entries):
        low, high = s["ray_min_worker_port"], s["ray_max_worker_port"]
        if _type_ok(low, int) and _type_ok(high, int) and low > high:
            return [f"host {host_name}: ray_min_worker_port={low} is above ray_max_worker_port={high}: "
                    "give the lowest worker port first"]
        return []  # check_rules reports the value out of range
    problems = []
    for index, entry in enumerate(entries):
        for other in entries[:index]:
            if not overlaps(entry, other):
                continue
            if entry[1] == entry[2] and other[1] == other[2]:
                problems.append(
                    f"host {host_name}: {entry[0]} and {other[0]} are both {entry[1]}: "
                    "two services cannot share a port; give each its own"
                )
            else:
                single = entry[0] if entry[1] == entry[2] else other[0]
                problems.append(
                    f"host {host_name}: {describe(entry)} and {describe(other)} overlap: two services "
                    f"cannot share a port; move {single} outside the range"
                )
    return problems


# Newline, carriage return and NUL: each would end a line of the env file, the
# compose file or a shell command early.
CONTROL = re.compile("[\r\n\x00]")
CONTROL_FIX = "holds a newline, carriage return or NUL: remove it (one line per value)"


def _strings(value, where: str):
    """(where, text) for every string in a value, its mapping keys included."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{where}[{index}]")
    elif isinstance(value, dict):
        nested = "[" in where or " " in where
        for name, item in value.items():
            inner = f"{where}.{name}" if nested else f"{where} {name}"
            if isinstance(name, str) and CONTROL.search(name):
                yield f"{where} {name!r}", name
                continue
            yield from _strings(item, inner)


def _span(low: int, high: int | None) -> str:
    return f"{low} or more" if high is None else f"{low}-{high}"


def check_rules(host_name: str, s: dict) -> list[str]:
    """Every value against its rule in seedcore/defaults.py: RANGES, CHOICES,
    PATTERNS, and no newline/NUL in any string of any key."""
    problems = []
    for key, (low, high, why) in RANGES.items():
        value = s[key]
        if _type_ok(value, int) and (value < low or (high is not None and value > high)):
            problems.append(
                f"host {host_name}: {key}={value} {why or 'is out of range'}: use {_span(low, high)}"
            )
    for key, allowed in CHOICES.items():
        value = s[key]
        if isinstance(value, str) and value not in allowed:
            problems.append(
                f"host {host_name}: {key}={value!r} is not allowed: use one of "
                + ", ".join(repr(choice) for choice in allowed)
            )
    flagged = set()
    for key in ALL_DEFAULTS:
        for where, text in _strings(s[key], key):
            if CONTROL.search(text):
                flagged.add(key)
                problems.append(f"host {host_name}: {where} {CONTROL_FIX}")
    for key, (pattern, words) in PATTERNS.items():
        value = s[key]
        if key in flagged:
            continue
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, str) and item and not re.fullmatch(pattern, item):
                problems.append(f"host {host_name}: {key} {item!r} is not {words}: correct it")
            elif isinstance(value, list) and not isinstance(item, str):
                problems.append(f"host {host_name}: {key} holds {item!r}: every item must be a string")
    problems += check_env(host_name, s)
    return problems


def check_env(host_name: str, s: dict) -> list[str]:
    """Names of the variables in ray_env, ray_notes_env and ray_secret_env (and,
    for ray_secret_env, the control machine's variables they read)."""
    problems = []
    pattern, words = ENV_NAME
    for key in ENV_KEYS:
        mapping = s[key]
        if not isinstance(mapping, dict):
            continue
        for name, value in mapping.items():
            if not isinstance(name, str) or CONTROL.search(name):
                continue  # check_rules reports a newline; check_keys types
            if not re.fullmatch(pattern, name):
                problems.append(f"host {host_name}: {key} variable {name!r} is not {words}: rename it")
            if key == "ray_secret_env" and not (
                isinstance(value, str) and re.fullmatch(pattern, value)
            ):
                problems.append(
                    f"host {host_name}: ray_secret_env {name} must name a variable of this machine "
                    f"({words}), got {type(value).__name__}"
                )
            elif key != "ray_secret_env" and not isinstance(value, (str, int, float)):
                problems.append(
                    f"host {host_name}: {key} {name} must be a string or a number, "
                    f"got {type(value).__name__}"
                )
    return problems


YAML_SCALARS = (str, int, float, bool, type(None))


def _yaml_safe(value) -> bool:
    if isinstance(value, list):
        return all(_yaml_safe(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _yaml_safe(v) for k, v in value.items())
    return isinstance(value, YAML_SCALARS)


def check_serve_applications(host_name: str, s: dict) -> list[str]:
    """Each application a mapping with a name and an import_path; names and
    route prefixes unique and apart from the shipped health application's."""
    apps = s["serve_applications"]
    if not isinstance(apps, list):
        return []
    problems = []
    health_route = s["serve_health_route"]
    names = {HEALTH_APP_NAME: "the shipped health application"}
    routes = {health_route: "the shipped health application (serve_health_route)"}
    for index, app in enumerate(apps):
        where = f"host {host_name}: serve_applications[{index}]"
        if not isinstance(app, dict) or not {"name", "import_path"} <= set(app):
            problems.append(f"{where} must be a mapping with at least name and import_path")
            continue
        if not _yaml_safe(app):
            problems.append(
                f"{where} holds a value YAML cannot write plainly: use strings, numbers, "
                "true/false, lists and mappings with string keys"
            )
            continue
        name, route = app["name"], app.get("route_prefix", "/")
        if not isinstance(name, str) or not name or not isinstance(app["import_path"], str):
            problems.append(f"{where}: name and import_path must be non-empty strings")
            continue
        if name in names:
            problems.append(f"{where} is named {name!r} like {names[name]}: give it its own name")
        else:
            names[name] = f"serve_applications[{index}]"
        if route is None:
            continue  # an application without HTTP ingress
        if not isinstance(route, str) or not route.startswith("/"):
            problems.append(f"{where} route_prefix {route!r} must start with /: e.g. /{name}")
        elif route in routes:
            problems.append(
                f"{where} route_prefix {route} is taken by {routes[route]}: give it its own route"
            )
        else:
            routes[route] = f"serve_applications[{index}]"
    return problems


def check_gcs_store(inventory, ray_nodes: set[str]) -> list[str]:
    """Head fault tolerance: one GCS store (a ray_gcs_store host or the head's
    ray_gcs_store_address), apart from the Ray nodes, with its password set."""
    stores = list(inventory.get_group(GCS_STORE_GROUP, []))
    heads = list(inventory.get_group(HEAD_GROUP, []))
    head = heads[0] if len(heads) == 1 else None
    problems = []
    if len(stores) > 1:
        problems.append(
            f"{len(stores)} hosts in group {GCS_STORE_GROUP} ({', '.join(h.name for h in stores)}): "
            "the GCS store is one Redis; keep one host there (or use an external HA Redis "
            "in ray_gcs_store_address)"
        )
    gpu = {h.name for h in inventory.get_group(GPU_GROUP, [])}
    for store in stores:
        if store.name in ray_nodes | gpu:
            problems.append(
                f"host {store.name} is in group {GCS_STORE_GROUP} and runs a Ray node: the store "
                "must outlive the head, so give it a host of its own (remove it from "
                f"{HEAD_GROUP}, {WORKER_GROUP} and {GPU_GROUP})"
            )
    if head is None:
        return problems
    head_settings = settings_for(head)
    external = head_settings["ray_gcs_store_address"]
    if stores and external:
        problems.append(
            f"host {head.name}: ray_gcs_store_address {external} is set and host {stores[0].name} is "
            f"in group {GCS_STORE_GROUP}: give exactly one GCS store (unset one of them)"
        )
    if not (stores or external):
        return problems
    for host in [head, *stores]:
        s = settings_for(host)
        variable = s["ray_gcs_store_password_env"]
        if not isinstance(variable, str) or not re.fullmatch(ENV_NAME[0], variable):
            continue  # check_rules reports it
        value = os.environ.get(variable)
        if not value:
            problems.append(
                f"host {host.name}: the GCS store needs its password in ${variable} "
                "(ray_gcs_store_password_env): export it (from your secret store) before the run"
            )
        elif CONTROL.search(value):
            problems.append(
                f"host {host.name}: ${variable} (ray_gcs_store_password_env) holds a newline, carriage "
                "return or NUL (value not shown): store the password without them"
            )
    for store in stores:
        if settings_for(store)["ray_gcs_store_password_env"] != head_settings["ray_gcs_store_password_env"]:
            problems.append(
                f"host {store.name}: ray_gcs_store_password_env differs from the head's "
                f"({settings_for(store)['ray_gcs_store_password_env']} vs "
                f"{head_settings['ray_gcs_store_password_env']}): Redis and the head would use different "
                "passwords; set it once in group_data"
            )
    timeout, start = head_settings["ray_gcs_reconnect_timeout_s"], head_settings["ray_head_start_timeout_s"]
    if _type_ok(timeout, int) and _type_ok(start, int) and timeout <= start:
        problems.append(
            f"host {head.name}: ray_gcs_reconnect_timeout_s={timeout} does not outlive a head start "
            f"(ray_head_start_timeout_s={start}): workers would exit before the head is back; "
            f"raise it above {start}"
        )
    return problems


def check_monitoring(inventory, heads: set[str], workers: set[str]) -> list[str]:
    """One monitoring host; Prometheus' port apart from the ports of a Ray node or
    GCS store on the same host."""
    hosts = list(inventory.get_group(MONITORING_GROUP, []))
    problems = []
    if len(hosts) > 1:
        problems.append(
            f"{len(hosts)} hosts in group {MONITORING_GROUP} ({', '.join(h.name for h in hosts)}): "
            "one Prometheus scrapes the cluster; keep one host there"
        )
    stores = {h.name for h in inventory.get_group(GCS_STORE_GROUP, [])}
    for host in hosts:
        s = settings_for(host)
        port = s["monitoring_port"]
        if not _type_ok(port, int):
            continue  # check_keys reports it
        taken = []
        if host.name in heads | workers:
            taken = node_ports("head" if host.name in heads else "worker", s)
        if host.name in stores:
            taken.append(("ray_gcs_store_port", s["ray_gcs_store_port"], s["ray_gcs_store_port"]))
        clash = next((entry for entry in taken if _type_ok(entry[1], int) and _type_ok(entry[2], int)
                      and entry[1] <= port <= entry[2]), None)
        if clash:
            problems.append(
                f"host {host.name}: monitoring_port {port} is also "
                f"{clash[0] if clash[1] == clash[2] else describe(clash)} on this host: "
                "two services cannot share a port; give Prometheus another (e.g. 9090)"
            )
    return problems


def check_apt_keys(s: dict) -> list[str]:
    """The expected repository key fingerprints, and a docker_version pin that pins something."""
    problems = []
    for key in ("docker_apt_key_fingerprint", "gpu_toolkit_key_fingerprint"):
        value = s[key]
        if isinstance(value, str) and not re.fullmatch(r"[0-9A-Fa-f]{40}", "".join(value.split())):
            problems.append(
                f"{key}={value!r} is not a key fingerprint: give the 40 hex digits of the "
                "repository key's primary key (gpg --show-keys --with-colons, its fpr line)"
            )
    pinned, official = s["docker_pinned_packages"], s["docker_official_packages"]
    if s["docker_version"] and isinstance(pinned, list) and isinstance(official, list):
        if not set(pinned) & set(official):
            problems.append(
                f"docker_version={s['docker_version']!r} pins none of docker_official_packages: "
                "list the packages it pins in docker_pinned_packages"
            )
    return problems


def check_cpu_image(host_name: str, s: dict) -> list[str]:
    """A host outside the `gpu` group must not be given a GPU image."""
    if s["gpu_image"]:
        return [
            f"host {host_name}: gpu_image is set but the host is not in group gpu: "
            "add it to gpu (it must have NVIDIA GPUs) or unset gpu_image for it"
        ]
    if isinstance(s["ray_image"], str) and looks_like_gpu_image(s["ray_image"]):
        return [
            f"host {host_name}: ray_image {s['ray_image']!r} is a GPU image but the host is not "
            "in group gpu: give CPU hosts a CPU image (GPU hosts use gpu_image)"
        ]
    return []


def _has_tag(image: str) -> bool:
    last = image.rsplit("/", 1)[-1]
    return "@" in last or ":" in last


def parse_serve_applications(value):
    """Accept a list or a YAML string holding one; raise ValueError otherwise."""
    if isinstance(value, str):
        try:
            value = yaml.safe_load(value)
        except yaml.YAMLError as error:
            # Where the broken construct starts, else where the parser gave up.
            mark = getattr(error, "context_mark", None) or getattr(error, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
            problem = " ".join(
                part for part in (getattr(error, "context", None), getattr(error, "problem", None)) if part
            ) or "invalid YAML"
            raise ValueError(
                f"does not parse as YAML ({where}: {problem}): give a YAML list of applications, "
                "each with name and import_path"
            ) from error
    if not isinstance(value, list):
        raise ValueError("must be a list of applications")
    return value


def connection_problems(inventory) -> list[str]:
    """What stops pyinfra before any deploy file runs: an inventory without a
    single host, an ssh_key or ssh_config_file that is not on this machine, a
    bastion (the first ProxyJump hop) that does not let us in."""
    hosts = list(inventory)
    if not hosts:
        return [
            f"{inventory_name()}: no hosts at all: list the head in {HEAD_GROUP} "
            f"and the workers in {WORKER_GROUP}"
        ]
    problems = []
    for host in hosts:
        key = host.data.get("ssh_key")
        if isinstance(key, str) and key and not os.path.isfile(os.path.expanduser(key)):
            problems.append(
                f"{inventory_name()}: host {host.name}: ssh_key {key} does not exist on this machine: "
                "fix the path (or create the key) before the run"
            )
        config = host.data.get("ssh_config_file")
        if isinstance(config, str) and config and (config.startswith("~") or not os.path.isfile(config)):
            why = ("starts with ~, which pyinfra does not expand" if config.startswith("~")
                   else "is not a file on this machine")
            problems.append(
                f"{inventory_name()}: host {host.name}: ssh_config_file {config} {why} (without it the "
                "host would be dialled directly, not through its ProxyJump): give the file's absolute path"
            )
    if not problems:
        problems += bastion_problems(hosts, inventory_name())
    return problems


def refuse_unconnectable(inventory) -> None:
    """Raise InventoryError, one line per problem, before pyinfra connects."""
    problems = connection_problems(inventory)
    if problems:
        raise InventoryError("nothing was changed on any host:\n  " + "\n  ".join(problems))


def address_key(host) -> str:
    """The data key `host`'s Ray address comes from (see topology.node_address)."""
    if host.data.get("ray_node_ip"):
        return "ray_node_ip"
    return "ssh_hostname" if host.data.get("ssh_hostname") else "host name"


def check_inventory(inventory) -> list[str]:
    """Everything wrong with the inventory, as lines for the operator."""
    hosts = list(inventory)
    heads = [h.name for h in inventory.get_group(HEAD_GROUP, [])]
    workers = [h.name for h in inventory.get_group(WORKER_GROUP, [])]
    problems = []
    if not heads:
        problems.append(f"no host in group {HEAD_GROUP}: put exactly one host there")
    elif len(heads) > 1:
        problems.append(
            f"{len(heads)} hosts in group {HEAD_GROUP} ({', '.join(heads)}): "
            "exactly one host runs the Ray head"
        )
    gpu_only = [h.name for h in inventory.get_group(GPU_GROUP, []) if h.name not in set(heads) | set(workers)]
    for name in gpu_only:
        problems.append(
            f"host {name} is in group gpu but in neither {HEAD_GROUP} nor {WORKER_GROUP}: "
            f"add it to {WORKER_GROUP} (or {HEAD_GROUP}); gpu only marks hosts with NVIDIA GPUs"
        )
    for name in sorted(set(heads) & set(workers)):
        problems.append(
            f"host {name} is in both {HEAD_GROUP} and {WORKER_GROUP}: "
            "one Ray node per host; keep it in one group"
        )

    problems += check_gcs_store(inventory, set(heads) | set(workers))
    problems += check_monitoring(inventory, set(heads), set(workers))
    if len(heads) == 1 and not key_types(heads[0], inventory.get_host(heads[0]).data.dict()):
        problems += check_tls_ca(inventory.get_host(heads[0]))

    addresses: dict[str, tuple[str, str]] = {}
    versions: dict[str, str] = {}
    for host in hosts:
        data = host.data.dict()
        if isinstance(data.get("serve_applications"), str):
            try:
                host.data.serve_applications = parse_serve_applications(data["serve_applications"])
            except ValueError as error:
                problems.append(f"host {host.name}: serve_applications {error}")
                continue
            data = host.data.dict()
        problems += unknown_keys(host.name, data)
        # A typo'd key does not hide the host's other problems; a wrong type does (its rules read it).
        type_problems = key_types(host.name, data)
        problems += type_problems
        if type_problems:
            continue
        settings = settings_for(host)
        role = "head" if host.name in heads else "worker"
        problems += check_rules(host.name, settings)
        problems += check_values(host.name, role, settings)
        problems += firewall_problems(host, settings)
        problems += door_problems(host, settings)
        if not is_gpu_host(host):
            problems += check_cpu_image(host.name, settings)
        address = node_address(host)
        source = f"{host.name}'s {address_key(host)}"
        if address in addresses:
            first, first_source = addresses[address]
            problems.append(
                f"hosts {first} and {host.name} have the same address {address} "
                f"({first_source}, {source}): each host must appear once"
            )
        addresses.setdefault(address, (host.name, source))
        versions[host.name] = settings["ray_version"]

    if len(set(versions.values())) > 1:
        listed = ", ".join(f"{name}={version}" for name, version in sorted(versions.items()))
        problems.append(
            f"ray_version differs between hosts ({listed}): "
            "a Ray cluster runs one version; set it once in group_data/all.py"
        )
    return [f"{inventory_name()}: {problem}" for problem in once_each(problems)]


def once_each(problems: list[str]) -> list[str]:
    """Each problem once: the same line for several hosts (a key set in group_data)
    becomes one line naming them all, where the first of them was."""
    hosts: dict[str, list[str]] = {}
    for line in problems:
        match = re.fullmatch(r"host (\S+): (.*)", line, re.DOTALL)
        text = match.group(2) if match else line
        names = hosts.setdefault(text, [])
        if match and match.group(1) not in names:
            names.append(match.group(1))
    merged = []
    for text, names in hosts.items():
        if len(names) > 1:
            merged.append(f"hosts {', '.join(names)}: {text}")
        else:
            merged.append(f"host {names[0]}: {text}" if names else text)
    return merged

"""Where the work runs: what each Ray node advertises to Ray's scheduler.

By default the head advertises no CPUs and no GPUs (Ray's advice for large
clusters: the head runs the GCS, the dashboard and Serve's controller), so
tasks, actors and Serve replicas run on the workers. A cluster of one host
has nowhere else to run them: its head advertises what it has.
"""

import json

# The resource every node that takes work advertises (the workers; the head only when it
# advertises CPUs): the Serve health app's replicas ask for a sliver of it, so they run
# where the work runs, one per node, and never on a head that does no work.
WORK_RESOURCE = "seedcore_work"


def head_takes_work(settings: dict, cluster_size: int) -> bool:
    """Whether the head advertises CPUs for tasks and replicas: in a cluster of one host
    (there is nowhere else), or when ray_head_num_cpus is not 0."""
    return cluster_size <= 1 or settings["ray_head_num_cpus"] != 0


def takes_work(node) -> bool:
    return node.role != "head" or head_takes_work(node.settings, node.cluster_size)


def advertised_cpus(node) -> int | None:
    """`--num-cpus` of the node (None: Ray counts the host's): a head with workers
    advertises ray_head_num_cpus unless it is "", any other node ray_num_cpus when set."""
    s = node.settings
    if node.role == "head" and node.cluster_size > 1 and s["ray_head_num_cpus"] != "":
        return int(s["ray_head_num_cpus"])
    return int(s["ray_num_cpus"]) or None


def advertised_gpus(node) -> int | None:
    """`--num-gpus` of the node (None: not given): a head with workers advertises
    ray_head_num_gpus unless it is "", any other node the GPUs of its host (`gpu` group)."""
    s = node.settings
    if node.role == "head" and node.cluster_size > 1 and s["ray_head_num_gpus"] != "":
        return int(s["ray_head_num_gpus"])
    return node.gpus or None


def resources_given(extra_args: list[str]) -> tuple[int, int, str] | None:
    """Where `--resources` is in ray_start_extra_args: (first index, last index, JSON), or None."""
    for index, arg in enumerate(extra_args):
        if arg == "--resources" and index + 1 < len(extra_args):
            return index, index + 1, extra_args[index + 1]
        if arg.startswith("--resources="):
            return index, index, arg.split("=", 1)[1]
    return None


def with_resources(extra_args: list[str], own: dict) -> list[str]:
    """ray_start_extra_args with `own` resources added to the node's: merged into a
    `--resources` given there (`ray start` takes one), else appended as one."""
    if not own:
        return list(extra_args)
    given = resources_given(extra_args)
    if given is None:
        return [*extra_args, f"--resources={json.dumps(own, sort_keys=True)}"]
    first, last, text = given
    merged = {**json.loads(text), **own}
    return [*extra_args[:first], f"--resources={json.dumps(merged, sort_keys=True)}", *extra_args[last + 1:]]

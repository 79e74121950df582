"""A point every host of a run passes together.

pyinfra orders operations by each host's own sequence (a topological sort of
the hosts' operation chains, `State.get_op_order`): two hosts that share no
operation are not ordered against each other at all. A host with a part of its
own (the GCS store, a monitoring host that is not a Ray node) would then run
its steps whenever they are ready: Prometheus' checks before any Ray node has
started, or the head before its store is up. Every host calls `every_host_here`
at one place in the deploy, so it is one operation on every host, and what any
host does after it comes after what every host did before it.
"""

from pyinfra import host
from pyinfra.api import operation


@operation()
def every_host_here(reason: str):
    """
    Nothing to do on the host: a point every host of the run reaches before it
    goes on (the join of the hosts' operation chains).

    + reason: what comes first, in words (shown as the operation's no-op)

    **Example:**

    .. code:: python

        order.every_host_here(
            name="Go on once every GCS store is up",
            reason="the GCS store runs before any Ray node starts",
        )
    """
    host.noop(reason)
    yield from ()  # an operation is a generator, even one with no command

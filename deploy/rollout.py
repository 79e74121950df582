"""Staging rollout, then prod: `pyinfra inventories/staging.py deploy/rollout.py`.

Workers are updated in batches of `rollout_batch_size`: pull, drain, restart,
wait until ALIVE and green, then the next batch; the first failed batch stops
the rollout and later batches keep their version. A change the head must
restart for (Ray version, head image or env) is announced and done as one
full, ordered restart instead; with the GCS store (head fault tolerance) the
head restarts alone and the workers reconnect to it. With `rollout_stage: "prod"` a release that no
staging rollout has verified is refused before anything changes.
"""

from pyinfra import host, inventory, state

from seedcore.start import Kind, start_run
from seedcore.tasks.whole import whole_rollout

start_run(state, Kind.ROLLOUT)
whole_rollout(host, state, inventory)

"""The SeedCore deploys. Importing the package (as every deploy file does)
makes pyinfra read its operation order from the frames: see deploy/op_order.py."""

from deploy import op_order

op_order.install()

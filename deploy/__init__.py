"""The SeedCore deploys. Importing the package (as every deploy file does)
makes pyinfra read its operation order from the frames: see deploy/pyinfra_seam.py."""

from deploy import pyinfra_seam

pyinfra_seam.install_operation_order()

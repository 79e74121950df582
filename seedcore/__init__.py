"""The SeedCore deploys. Importing the package (as every deploy file does)
makes pyinfra read its operation order from the frames: see seedcore/pyinfra_seam.py."""

from seedcore import pyinfra_seam

pyinfra_seam.install_operation_order()

"""The local lab: real Debian hosts, made of containers, that the demo and the
end-to-end tests deploy to.

Run it with `python -m lab up|down|status`. Everything it creates on the Docker
engine carries the label `io.seedcore.lab=1`; nothing else is touched.
"""

# The README's two commands, the local lab and the project's virtual environment.
#   make demo     the cluster deployed to a mixed local lab (a Debian 12 head, Debian 13 workers
#                 installing Docker from the lab's apt mirror) in the recommended production shape
#                 (inventories/demo.py, as inventories/prod.py: a GCS store host, the last lab
#                 host a worker and the monitoring host), verified; prints each host's release,
#                 Docker source and Compose version, the dashboard URL and the Prometheus URL, or
#                 with LAB_BASTION=1 the ssh line that opens them through the bastion
#   make docs     docs/data-keys.md again from seedcore/defaults.py
#   make test     ruff, then the whole test suite (LAB=0 skips the end-to-end tier,
#                 and with it the engine: only the venv, no root, no dockerd)
#   make venv     .venv with the project's and the test tools' requirements
#   make engine   a running Docker engine here (scripts/ensure-docker.sh)
#   make promtool promtool here, for the alert-rule tests (scripts/ensure-promtool.sh)
#   make lab      the lab of real hosts: python -m lab up (fast when current), LAB_DISTROS releases
#   make lab-down remove the lab's hosts, registry, volumes and network
#   make bench    the benchmarks on the lab (BENCH_ARGS="--only floor,noop --sizes 1,3" for a quick check)

PYTHON ?= python3
VENV := .venv
VENV_STAMP := $(VENV)/.requirements-stamp
# make demo: a head, the GCS store host and two workers, the last also Prometheus' (inventories/demo.py).
LAB_HOSTS ?= 4
# Debian release per lab host, in order; the last repeats for the rest.
LAB_DISTROS ?= bookworm,trixie
# LAB_BASTION=1: the hosts behind a bastion this machine reaches by SSH only.
LAB_BASTION ?=

.PHONY: demo docs test lint bench venv engine promtool lab lab-down lab-status

demo: lab
	$(VENV)/bin/pyinfra -y inventories/demo.py deploy/cluster.py
	@$(VENV)/bin/python -m lab status
	@$(VENV)/bin/python -m lab versions
	@$(VENV)/bin/python -m lab view

# Benchmarks on the lab (takes it over): docs/benchmarks.md and docs/benchmarks.json, naming
# the commit. The full run is what gets published; a quick check, for example:
#   make bench BENCH_ARGS="--only floor,noop --sizes 1,3 --repeat 1"
BENCH_ARGS ?=
bench: lab
	$(VENV)/bin/python -m bench.run --distros $(LAB_DISTROS) $(BENCH_ARGS)

lint: venv
	$(VENV)/bin/ruff check .

# The end-to-end tier brings the lab up itself (fresh hosts) on a running engine;
# LAB=0 skips both: ruff and pytest from the venv, no root, no dockerd.
ifeq ($(LAB),0)
test: lint
	LAB=0 $(VENV)/bin/python -m pytest $(PYTEST_ARGS)
else
test: lint engine promtool
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)
endif

venv: $(VENV_STAMP)

# Reinstalled only when a requirements file changes.
$(VENV_STAMP): requirements.txt requirements-dev.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $@

engine:
	scripts/ensure-docker.sh

# promtool checks the shipped alert rules in the unit tests (Debian's prometheus package).
promtool:
	scripts/ensure-promtool.sh

lab: engine venv
	$(VENV)/bin/python -m lab up --hosts $(LAB_HOSTS) --distros $(LAB_DISTROS) $(if $(LAB_BASTION),--bastion)

lab-down:
	$(PYTHON) -m lab down

lab-status:
	$(PYTHON) -m lab status

# docs/data-keys.md from seedcore/defaults.py (the comment above each key is its meaning).
docs: venv
	$(VENV)/bin/python -m seedcore.keys_doc

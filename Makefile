# The local lab and the project's virtual environment.
#   make venv     .venv with the project's and the test tools' requirements
#   make engine   a running Docker engine here (scripts/ensure-docker.sh)
#   make lab      the lab of real hosts: python -m lab up (fast when current)
#   make lab-down remove the lab's hosts, registry, volumes and network

PYTHON ?= python3
VENV := .venv
VENV_STAMP := $(VENV)/.requirements-stamp
LAB_HOSTS ?= 3

.PHONY: venv engine lab lab-down lab-status

venv: $(VENV_STAMP)

# Reinstalled only when a requirements file changes.
$(VENV_STAMP): requirements.txt requirements-dev.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $@

engine:
	scripts/ensure-docker.sh

lab: engine venv
	$(VENV)/bin/python -m lab up --hosts $(LAB_HOSTS)

lab-down:
	$(PYTHON) -m lab down

lab-status:
	$(PYTHON) -m lab status

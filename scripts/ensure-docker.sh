#!/bin/sh
# Make sure a Docker engine answers on this machine, plus the tools the lab
# needs (debootstrap, ssh client, iproute2). Idempotent; run as root.
#
# Machines without systemd as PID 1 get `dockerd` started in the background,
# logging to /var/log/dockerd.log.
set -eu

WAIT_SECONDS=60
LOG=/var/log/dockerd.log

fail() {
    echo "ensure-docker: $*" >&2
    exit 1
}

[ "$(id -u)" -eq 0 ] || fail "run as root (it installs packages and starts dockerd)"

have() { command -v "$1" >/dev/null 2>&1; }

missing=""
# The engine package is needed unless a client talks to a running engine already.
if ! have docker || { ! have dockerd && ! docker info >/dev/null 2>&1; }; then
    missing="$missing docker.io"
fi
have debootstrap || missing="$missing debootstrap"
have ssh-keygen || missing="$missing openssh-client"
have ip || missing="$missing iproute2"
# bench/rayup.py: Ray's cluster launcher syncs files with rsync.
have rsync || missing="$missing rsync"

if [ -n "$missing" ]; then
    echo "ensure-docker: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || fail "apt-get update failed"
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null || fail "installing$missing failed"
fi

if docker info >/dev/null 2>&1; then
    echo "ensure-docker: engine answering ($(docker version --format '{{.Server.Version}}'))"
    exit 0
fi

if [ -d /run/systemd/system ]; then
    systemctl start docker || fail "systemctl start docker failed: see journalctl -u docker"
else
    echo "ensure-docker: starting dockerd (log: $LOG)"
    setsid nohup dockerd >>"$LOG" 2>&1 </dev/null &
fi

waited=0
until docker info >/dev/null 2>&1; do
    if [ "$waited" -ge "$WAIT_SECONDS" ]; then
        fail "the engine did not answer within ${WAIT_SECONDS} s; last lines of $LOG:
$(tail -n 5 "$LOG" 2>/dev/null)"
    fi
    sleep 1
    waited=$((waited + 1))
done
echo "ensure-docker: engine answering after ${waited} s ($(docker version --format '{{.Server.Version}}'))"

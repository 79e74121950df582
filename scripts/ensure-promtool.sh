#!/bin/sh
# Make sure promtool answers here: the unit tests check the shipped alert rules
# with it (`promtool check rules`, `promtool test rules`). It comes with Debian's
# prometheus package, installed once (apt's cache makes later runs a no-op);
# the service it also brings is not started (no systemd here, --no-install-recommends).
# Idempotent; run as root.
set -eu

fail() {
    echo "ensure-promtool: $*" >&2
    exit 1
}

if command -v promtool >/dev/null 2>&1; then
    echo "ensure-promtool: $(promtool --version 2>&1 | head -n 1)"
    exit 0
fi
[ "$(id -u)" -eq 0 ] || fail "run as root (it installs Debian's prometheus package for promtool)"
echo "ensure-promtool: installing prometheus (for promtool)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || fail "apt-get update failed"
apt-get install -y -qq --no-install-recommends prometheus >/dev/null || fail "installing prometheus failed"
command -v promtool >/dev/null 2>&1 || fail "prometheus is installed but promtool is not on PATH"
echo "ensure-promtool: $(promtool --version 2>&1 | head -n 1)"

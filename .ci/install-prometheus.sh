#!/usr/bin/env bash
# Installs Debian's prometheus package (prometheus and promtool) for test/integration/prometheus.test.ts,
# which starts a Prometheus of its own on a free port. Idempotent; root on Debian (apt-get). The package
# would start a service on :9090 and pull node-exporter: neither is wanted, so the install forbids
# service starts (policy-rc.d, the only way that also holds under systemd's deb hooks) and stops and
# disables whatever still runs.
set -euo pipefail

if command -v prometheus >/dev/null && command -v promtool >/dev/null; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "prometheus/promtool are missing and this is not root on Debian: install the prometheus package" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod 755 "$policy"
  own_policy=1
fi
cleanup() { if [ "$own_policy" = 1 ]; then rm -f "$policy"; fi; }
trap cleanup EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends prometheus >/dev/null
# Belt and braces: a service started anyway (a system without policy-rc.d support) is stopped.
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  systemctl disable --now prometheus.service >/dev/null 2>&1 || true
elif command -v service >/dev/null; then
  service prometheus stop >/dev/null 2>&1 || true
fi
command -v prometheus >/dev/null && command -v promtool >/dev/null

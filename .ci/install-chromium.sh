#!/usr/bin/env bash
# Installs Debian's Chromium for the /docs browser test (test/integration/docs-browser.test.ts), if it
# is not there yet. Idempotent; needs root on Debian (apt-get). Run before the tests with
# REQUIRE_CHROMIUM=1, so a missing browser fails the run instead of skipping the test.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo present)"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "Chromium is not installed at /usr/bin/chromium and this is not root on Debian: cannot install it" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
[ -x /usr/bin/chromium ]
echo "chromium: installed $(/usr/bin/chromium --version 2>/dev/null || true)"

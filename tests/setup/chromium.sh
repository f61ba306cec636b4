#!/usr/bin/env bash
# Debian's Chromium for the web board's browser test (tests/ControlPlane.IntegrationTests/Board). Playwright drives
# it by executable path; no browser is ever downloaded. Idempotent: does nothing when /usr/bin/chromium exists.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Chromium not found: installing Debian's chromium with apt-get (the board's browser test needs it)."
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "error: /usr/bin/chromium is needed by the board's browser test; install Debian's chromium package." >&2
  exit 2
fi

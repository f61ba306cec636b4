#!/usr/bin/env bash
# The failover anchors for `ControlPlane.Bench failover-anchors` (bench/BENCHMARKS.md §16): Patroni with a 3-member
# etcd, and pg_auto_failover for PostgreSQL 15, from Debian's own packages. Idempotent; needs root (apt-get).
# Nothing is started here: the benchmark starts its own etcd members, Patroni agents and pg_autoctl keepers in its
# work directory and stops them at the end.
set -euo pipefail

if command -v patroni >/dev/null && command -v etcd >/dev/null && command -v etcdctl >/dev/null && command -v pg_autoctl >/dev/null \
   && [ -x /usr/lib/postgresql/15/bin/postgres ]; then
  exit 0
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -q patroni etcd-server etcd-client pg-auto-failover-cli postgresql-15-auto-failover
# Debian may start a system-wide etcd on the default ports; the benchmark runs its own members on free ports and
# needs none of it.

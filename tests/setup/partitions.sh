#!/usr/bin/env bash
# nftables for the network-partition tests (tests/ControlPlane.IntegrationTests/Hosts/PartitionTests.cs): they cut a
# simulated host off with nft rules, as root. Idempotent: does nothing when nft exists. Without root the tests skip
# themselves, saying why, so this only warns.
set -euo pipefail
if command -v nft >/dev/null 2>&1 || [ -x /usr/sbin/nft ]; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "nft not found: installing Debian's nftables with apt-get (the partition tests need it)."
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nftables >/dev/null
else
  echo "warning: nft (nftables) not found and not root: the network-partition tests will be skipped." >&2
fi

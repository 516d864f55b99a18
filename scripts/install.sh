#!/usr/bin/env bash
# install.sh — build djstripe_pg and install it into a PostgreSQL (as root).
#
#   bash scripts/install.sh [--debug] [PG_CONFIG]
#
# Builds the optimised library (what a production server runs) unless --debug (the tests'
# choice: it builds in a fraction of the time). PG_CONFIG picks the installation (default:
# Debian's PostgreSQL 15, /usr/lib/postgresql/15/bin/pg_config).
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE=release
if [ "${1:-}" = "--debug" ]; then PROFILE=debug; shift; fi
PG_CONFIG=${1:-/usr/lib/postgresql/15/bin/pg_config}
[ -x "$PG_CONFIG" ] || { echo "install.sh: no pg_config at $PG_CONFIG" >&2; exit 1; }
# Builds need cargo-pgrx; scripts/setup.sh installs it and the rest on a fresh machine (it is
# not run from here: it installs packages and stops Debian's own clusters, fine for a test
# machine, not for a server being upgraded).
cargo pgrx --version 2>/dev/null | grep -q " 0.18.1" ||
    { echo "$(basename "$0"): needs cargo-pgrx 0.18.1 (bash scripts/setup.sh installs it)" >&2; exit 1; }
OUT=target/pgrx-install/$("$PG_CONFIG" --version | tr -dc '0-9.' | cut -d. -f1)
rm -rf "$OUT"
cargo pgrx package $([ "$PROFILE" = debug ] && echo --debug) --pg-config "$PG_CONFIG" --out-dir "$OUT" >&2
# Each file goes in under a temporary name and is renamed over the old one. Overwriting the
# library in place (what `cargo pgrx install` does) changes the code under every server process
# that has it loaded, and a server that preloads it (the background worker) crashes.
(cd "$OUT" && find . -type f) | while read -r f; do
    dest=/${f#./}
    mkdir -p "$(dirname "$dest")"
    install -m 0644 "$OUT/$f" "$dest.djstripe-new"  # readable by the server, whatever the umask
    mv -f "$dest.djstripe-new" "$dest"
done
# The install scripts of earlier releases too (releases/), so that a database can be created at
# one of them and updated: what the upgrade tests do.
EXT=$("$PG_CONFIG" --sharedir)/extension
CURRENT=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
for f in releases/djstripe_pg--*.sql; do
    [ "$(basename "$f")" != "djstripe_pg--$CURRENT.sql" ] || continue  # this build's own stands
    install -m 0644 "$f" "$EXT/$(basename "$f").djstripe-new" && mv -f "$EXT/$(basename "$f").djstripe-new" "$EXT/$(basename "$f")"
done
echo "installed djstripe_pg ($PROFILE build) into $("$PG_CONFIG" --pkglibdir)" >&2

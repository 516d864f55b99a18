#!/usr/bin/env bash
# install.sh — build djstripe_pg and install it into Debian's PostgreSQL 15 (as root).
# DJSTRIPE_RELEASE=1 builds the optimised library (the benchmark's); the default is a debug build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
OUT=target/pgrx-install
rm -rf "$OUT"
cargo pgrx package $([ -n "${DJSTRIPE_RELEASE:-}" ] || echo --debug) --pg-config "$PG_CONFIG" --out-dir "$OUT" >&2
# Each file goes in under a temporary name and is renamed over the old one. Overwriting the
# library in place (what `cargo pgrx install` does) changes the code under every server process
# that has it loaded, and a server that preloads it (the background worker) crashes.
(cd "$OUT" && find . -type f) | while read -r f; do
    dest=/${f#./}
    mkdir -p "$(dirname "$dest")"
    cp "$OUT/$f" "$dest.djstripe-new"
    mv -f "$dest.djstripe-new" "$dest"
done
echo "installed djstripe_pg ($([ -n "${DJSTRIPE_RELEASE:-}" ] && echo release || echo debug) build) into $($PG_CONFIG --pkglibdir)" >&2

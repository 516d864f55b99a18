#!/usr/bin/env bash
# package.sh — the release tarballs installed as a server without Rust would install them: each
# unpacked and installed by its own install.sh into a clean copy of its PostgreSQL (no
# djstripe_pg in it before), then the smoke part of the e2e suite on that copy.
#   bash tests/package.sh [--debug] [PG_CONFIG ...]   (arguments go to scripts/package.sh)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
log() { echo "package: $*" >&2; }
# Webhooks, syncs, errors and secrecy: quick, and through every kind of object the package holds.
SMOKE=(test_webhook_ingest.py test_sync_pages.py test_security.py)
out=$(bash scripts/package.sh "$@")  # (a failure inside <(…) would go unseen)
mapfile -t TARBALLS <<< "$out"
asked=0; for a in "$@"; do [ "$a" = --debug ] || asked=$((asked + 1)); done
[ "$asked" -gt 0 ] || asked=2  # package.sh's default: 15 and 18
[ ${#TARBALLS[@]} -eq "$asked" ] || { log "asked for $asked packages, got: $out"; exit 1; }
for t in "${TARBALLS[@]}"; do [ -f "$t" ] || { log "no tarball $t"; exit 1; }; done
WORK=$(mktemp -d /tmp/djstripe-package.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
chmod 755 "$WORK"
for tarball in "${TARBALLS[@]}"; do
    major=$(basename "$tarball" | sed 's/.*-pg\([0-9]*\)-.*/\1/')
    if [ "$major" = 15 ]; then src=/usr/lib/postgresql/15/bin/pg_config; else src=$(bash scripts/pg18-config.sh); fi
    pg_config=$(bash scripts/pgcopy.sh "$src" "$WORK/pg$major")
    mkdir -p "$WORK/unpack" && tar -C "$WORK/unpack" -xzf "$tarball"
    PG_CONFIG=$pg_config "$WORK/unpack/$(basename "$tarball" .tar.gz)/install.sh"
    log "smoke tests on the installed $(basename "$tarball")"
    PG_BIN=$(dirname "$pg_config") bash tests/e2e/run.sh "${SMOKE[@]}"
done

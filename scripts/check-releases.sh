#!/usr/bin/env bash
# check-releases.sh — what a release promises, checked against the tree and its history:
#   1. no released script (releases/SHA256SUMS) changed;
#   2. no line of SHA256SUMS was ever changed or removed (git history, where there is one);
#   3. the control file's version, Cargo.toml's and the newest upgrade target agree, and every
#      release has a chain of upgrade scripts (sql/djstripe_pg--A--B.sql) to the current version;
#   4. the built library (LIB, default target/debug/libdjstripe_pg.so) still has every C symbol a
#      released script names, so that a database still at that release keeps working with it
#      until it is updated.
#   bash scripts/check-releases.sh [LIB]
set -euo pipefail
cd "$(dirname "$0")/.."
fail() { echo "check-releases: $*" >&2; exit 1; }

# 1.
(sha256sum --quiet --check releases/SHA256SUMS) || fail "a released script was edited (releases/SHA256SUMS)"

# 2.
if git rev-parse --git-dir >/dev/null 2>&1 && [ "$(git rev-parse --is-shallow-repository)" = false ]; then
    for c in $(git log --format=%H -- releases/SHA256SUMS); do
        git show "$c:releases/SHA256SUMS" 2>/dev/null | while read -r line; do
            grep -qxF "$line" releases/SHA256SUMS || fail "line '$line' of SHA256SUMS (in $c) is gone or changed"
        done
    done
else
    echo "check-releases: no full git history here; SHA256SUMS checked against the files only" >&2
fi

# 3.
VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
grep -q "default_version = '@CARGO_VERSION@'" djstripe_pg.control || fail "djstripe_pg.control must take Cargo.toml's version"
python3 - "$VERSION" <<'PY' || exit 1
import glob, os, re, sys
current = sys.argv[1]
key = lambda v: tuple(int(x) for x in v.split("."))
released = sorted({re.match(r"djstripe_pg--([0-9.]+)\.sql$", os.path.basename(p)).group(1)
                   for p in glob.glob("releases/djstripe_pg--*.sql")}, key=key)
steps = {}
for p in glob.glob("sql/djstripe_pg--*--*.sql"):
    a, b = re.match(r"djstripe_pg--([0-9.]+)--([0-9.]+)\.sql$", os.path.basename(p)).groups()
    steps.setdefault(a, []).append(b)
for r in released:
    if key(r) > key(current):
        sys.exit(f"check-releases: release {r} is newer than Cargo.toml's {current}")
    seen, v = set(), r
    while v != current:
        nxt = [b for b in steps.get(v, []) if key(b) > key(v)]
        if not nxt or v in seen:
            sys.exit(f"check-releases: no upgrade path from {r} to {current} (stuck at {v})")
        seen.add(v)
        v = max(nxt, key=key)
newest = max((b for bs in steps.values() for b in bs), key=key, default=None)
if newest and newest != current:
    sys.exit(f"check-releases: the newest upgrade script goes to {newest}, Cargo.toml says {current}")
print(f"check-releases: releases {', '.join(released)} each upgrade to {current}")
PY

# 4.
LIB=${1:-${CARGO_TARGET_DIR:-target}/debug/libdjstripe_pg.so}
[ -f "$LIB" ] || fail "no library at $LIB: build first (or name it)"
missing=$(grep -ho "MODULE_PATHNAME', *'[A-Za-z0-9_]*'" releases/djstripe_pg--*.sql sql/djstripe_pg--*--*.sql |
          sed "s/.*'\([A-Za-z0-9_]*\)'$/\1/" | sort -u | while read -r sym; do
              nm -D --defined-only "$LIB" | awk '{print $3}' | grep -qxF "$sym" || echo "$sym"
          done)
[ -z "$missing" ] || fail "$LIB lacks C functions released scripts name: $missing"
echo "check-releases: ok"

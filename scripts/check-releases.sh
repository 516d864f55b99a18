#!/usr/bin/env bash
# check-releases.sh — what a release promises, checked against the tree and its history:
#   1. every released script is listed in releases/SHA256SUMS (the install scripts in releases/,
#      and every upgrade script up to the newest release) and none of them changed;
#   2. no line of SHA256SUMS was ever changed or removed (git history, where there is one);
#   3. the control file takes Cargo.toml's version, the newest upgrade script goes to it, and
#      every release has a chain of upgrade scripts to it;
#   4. if the current version is itself released, this build's install script is the frozen
#      one (else the version must be bumped): EXTDIR, an extension directory it was installed to;
#   5. the built library still has every C symbol a released script names, so that with it
#      installed a database can still be created at that release and updated.
#   bash scripts/check-releases.sh [LIB [EXTDIR]]   (LIB: default target/debug/libdjstripe_pg.so)
set -euo pipefail
cd "$(dirname "$0")/.."
fail() { echo "check-releases: $*" >&2; exit 1; }
VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)

# 1, 3.
python3 - "$VERSION" <<'PY'
import glob, hashlib, os, re, sys
current = sys.argv[1]
def fail(msg):
    sys.exit(f"check-releases: {msg}")
def key(v):
    if not re.fullmatch(r"\d+\.\d+\.\d+", v):
        fail(f"{v!r} is not a MAJOR.MINOR.PATCH version")
    return tuple(int(x) for x in v.split("."))
key(current)
listed = {}
for line in open("releases/SHA256SUMS"):
    if line.strip():
        digest, path = line.split(None, 1)
        listed[path.strip()] = digest
released = sorted({re.match(r"djstripe_pg--(.+)\.sql$", os.path.basename(p)).group(1)
                   for p in glob.glob("releases/djstripe_pg--*.sql")}, key=key)
steps = {}
for p in glob.glob("sql/djstripe_pg--*--*.sql"):
    a, b = re.match(r"djstripe_pg--(.+)--(.+)\.sql$", os.path.basename(p)).groups()
    steps.setdefault(a, []).append(b)
    if released and key(b) <= key(released[-1]) and p not in listed:
        fail(f"{p} leads to release {b} but is not in releases/SHA256SUMS")
for r in released:
    if f"releases/djstripe_pg--{r}.sql" not in listed:
        fail(f"releases/djstripe_pg--{r}.sql is not in releases/SHA256SUMS")
for path, digest in listed.items():
    if not os.path.exists(path):
        fail(f"{path}, a released script, is gone")
    if hashlib.sha256(open(path, "rb").read()).hexdigest() != digest:
        fail(f"{path} was edited after its release (releases/SHA256SUMS)")
for r in released:
    if key(r) > key(current):
        fail(f"release {r} is newer than Cargo.toml's {current}")
    # PostgreSQL takes the shortest chain; any chain will do here.
    frontier, seen = [r], {r}
    while frontier and current not in seen:
        frontier = [b for a in frontier for b in steps.get(a, []) if key(b) > key(a) and b not in seen]
        seen.update(frontier)
    if current not in seen:
        fail(f"no chain of upgrade scripts from {r} to {current}")
newest = max((b for bs in steps.values() for b in bs), key=key, default=None)
if newest and newest != current:
    fail(f"the newest upgrade script goes to {newest}, Cargo.toml says {current}")
print(f"check-releases: {', '.join(released) or 'no releases'} → {current}: scripts untouched, chains complete")
PY
grep -q "^default_version = '@CARGO_VERSION@'$" djstripe_pg.control || fail "djstripe_pg.control must take Cargo.toml's version"

# 2.
if git rev-parse --git-dir >/dev/null 2>&1 && [ "$(git rev-parse --is-shallow-repository)" = false ]; then
    for c in $(git log --format=%H -- releases/SHA256SUMS); do
        old=$(git show "$c:releases/SHA256SUMS" 2>/dev/null) || fail "commit $c removed releases/SHA256SUMS"
        while read -r line || [ -n "$line" ]; do
            [ -z "$line" ] || grep -qxF "$line" releases/SHA256SUMS ||
                fail "line '$line' of SHA256SUMS (as of $c) is gone or changed"
        done <<< "$old"
    done
else
    echo "check-releases: no full git history here; SHA256SUMS checked against the files only" >&2
fi

# 4.
EXTDIR=${2:-}
if [ -f "releases/djstripe_pg--$VERSION.sql" ] && [ -n "$EXTDIR" ]; then
    strip() { grep -vE '^-- src/[^ ]+:[0-9]+$' "$1"; }  # pgrx's source-line notes differ by build
    diff -q <(strip "releases/djstripe_pg--$VERSION.sql") <(strip "$EXTDIR/djstripe_pg--$VERSION.sql") >/dev/null ||
        fail "release $VERSION is frozen, but this build's install script differs: bump the version"
fi

# 5.
LIB=${1:-${CARGO_TARGET_DIR:-target}/debug/libdjstripe_pg.so}
[ -f "$LIB" ] || fail "no library at $LIB: build first (or name it)"
syms=$(nm -D --defined-only "$LIB" | awk '{print $3}')
missing=$(grep -ho "MODULE_PATHNAME', *'[A-Za-z0-9_]*'" releases/djstripe_pg--*.sql sql/djstripe_pg--*--*.sql |
          sed "s/.*'\([A-Za-z0-9_]*\)'$/\1/" | sort -u | while read -r sym; do
              grep -qxF "$sym" <<< "$syms" || echo "$sym"
          done)
[ -z "$missing" ] || fail "$LIB lacks C functions released scripts name: $missing"
echo "check-releases: ok"

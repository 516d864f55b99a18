#!/usr/bin/env bash
# pgcluster.sh — a throwaway PostgreSQL 15 cluster on 127.0.0.1, run as the postgres OS user.
#
#   scripts/pgcluster.sh start DIR PORT [extra postgresql.conf lines...]   # initdb if needed, start
#   scripts/pgcluster.sh stop DIR
#
# The extension must already be installed into Debian's PostgreSQL 15 (scripts/install.sh).
# Connect with: psql -h 127.0.0.1 -p PORT -U postgres postgres  (trust auth on loopback only).
# PG_BIN names another installation's bin directory (default: Debian's PostgreSQL 15).
set -euo pipefail
BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
cmd=${1:?start|stop}; dir=${2:?data directory}
as_pg() { sudo -u postgres "$@"; }

case "$cmd" in
start)
    port=${3:?port}; shift 3
    mkdir -p "$dir"; chown postgres:postgres "$dir"; chmod 700 "$dir"
    if [ ! -f "$dir/PG_VERSION" ]; then
        as_pg "$BIN/initdb" -D "$dir" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
        {
            echo "listen_addresses = '127.0.0.1'"
            echo "port = $port"
            echo "unix_socket_directories = '$dir'"
            echo "fsync = off"
            echo "synchronous_commit = off"
            for line in "$@"; do echo "$line"; done
        } >> "$dir/postgresql.conf"
    fi
    as_pg "$BIN/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start >/dev/null
    ;;
stop)
    [ -f "$dir/postmaster.pid" ] && as_pg "$BIN/pg_ctl" -D "$dir" -m fast -w stop >/dev/null || true
    ;;
*) echo "usage: $0 start|stop DIR [PORT]" >&2; exit 2 ;;
esac

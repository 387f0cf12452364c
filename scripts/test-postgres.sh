#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests, from the machine's own
# binaries (initdb, pg_ctl, postgres), listening on a free port on 127.0.0.1.
#
#   scripts/test-postgres.sh run CMD...   start a server in a temporary directory,
#                                         run CMD with OBSERVE_TEST_POSTGRES_URL set,
#                                         stop the server and remove it at exit
#   scripts/test-postgres.sh start DIR    start (or restart) a server kept in DIR;
#                                         prints its URL
#   scripts/test-postgres.sh stop DIR     stop it (DIR is kept)
#
# PostgreSQL refuses to run as root: as root, the server runs as the user
# `postgres` (runuser). Password authentication (scram-sha-256) is on, so a
# wrong password is refused as it would be in production. No TLS.
#
# Developers: scripts/test-postgres.sh run cargo test --workspace --all-features
set -euo pipefail

find_bin() {
    if command -v "$1" >/dev/null 2>&1; then
        command -v "$1"
        return
    fi
    local found
    found=$(ls /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -z "$found" ]]; then
        echo "test-postgres: $1 not found (install PostgreSQL's server package)" >&2
        exit 1
    fi
    echo "$found"
}

as_server_user() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

port_is_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
    local dir=$1
    mkdir -p "$dir"
    if [[ $(id -u) -eq 0 ]]; then chown postgres "$dir"; fi
    local data="$dir/data" password port
    if [[ ! -f "$data/PG_VERSION" ]]; then
        password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
        echo "$password" | as_server_user tee "$dir/password" >/dev/null
        as_server_user "$(find_bin initdb)" -D "$data" -U postgres --auth=scram-sha-256 \
            --pwfile="$dir/password" -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 ||
            { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    password=$(cat "$dir/password")
    if [[ -f "$dir/port" ]]; then
        port=$(cat "$dir/port")
    else
        port=$(( 20000 + RANDOM % 20000 ))
        while ! port_is_free "$port"; do port=$(( port + 1 )); done
        echo "$port" | as_server_user tee "$dir/port" >/dev/null
    fi
    as_server_user "$(find_bin pg_ctl)" -D "$data" -l "$dir/server.log" -w -t 60 \
        -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" start >/dev/null ||
        { cat "$dir/server.log" >&2; exit 1; }
    echo "postgres://postgres:$password@127.0.0.1:$port/postgres"
}

stop() {
    local dir=$1
    if [[ -f "$dir/data/postmaster.pid" ]]; then
        as_server_user "$(find_bin pg_ctl)" -D "$dir/data" -m fast -w stop >/dev/null || true
    fi
}

case "${1:-}" in
start) start "$2" ;;
stop) stop "$2" ;;
run)
    shift
    dir=$(mktemp -d "${TMPDIR:-/tmp}/observe-pg.XXXXXX")
    trap 'stop "$dir"; rm -rf "$dir"' EXIT
    OBSERVE_TEST_POSTGRES_URL=$(start "$dir")
    export OBSERVE_TEST_POSTGRES_URL
    echo "test-postgres: PostgreSQL at ${OBSERVE_TEST_POSTGRES_URL%%:*}://postgres:***@${OBSERVE_TEST_POSTGRES_URL##*@}" >&2
    "$@"
    ;;
*)
    sed -n '2,16p' "$0" >&2
    exit 2
    ;;
esac

# A throwaway PostgreSQL server for the scripts: sourced by `scripts/test`
# and `scripts/bench`, never run on its own.
#
# `start_postgres NAME [SERVER OPTIONS...]` runs initdb into a temporary
# directory (as the `postgres` user when run as root: initdb refuses root),
# starts the server on a free loopback port with the given `-c` options,
# creates the database NAME, and exports DATABASE_URL. An EXIT trap stops
# the server and deletes the directory on every exit path. It also sets
# PG_BIN (the server's bin directory), PG_AS (the command prefix that runs
# as the server's user) and PG_TMP (the temporary directory), and exports
# JOBS_TEST_PG_CTL (a pg_ctl command line with the data directory, for the
# tests that restart the server). A missing PostgreSQL is installed with
# apt-get when possible, and is otherwise an error.

find_pg_bin() {
    # the real bin directory, not a folder of symlinks to some of its tools
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v pg_ctl)")"
        return
    fi
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
            echo "$dir"
            return
        fi
    done
}

install_pg() {
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "== installing PostgreSQL with apt-get" >&2
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null && return
    local port
    for port in $(seq 54320 54420); do
        if ! (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    echo "no free port found" >&2
    return 1
}

start_postgres() {
    local database="$1"
    shift
    local options=""
    local option
    for option in "$@"; do
        options+=" $option"
    done

    PG_BIN="$(find_pg_bin)"
    if [ -z "$PG_BIN" ]; then
        install_pg
        PG_BIN="$(find_pg_bin)"
    fi
    if [ -z "$PG_BIN" ]; then
        echo "error: PostgreSQL (initdb, pg_ctl) not found and could not be installed;" >&2
        echo "       install it or set DATABASE_URL to a server that may be used" >&2
        exit 1
    fi

    PG_TMP="$(mktemp -d "${TMPDIR:-/tmp}/jobs-pg.XXXXXX")"
    trap 'rm -rf "$PG_TMP"' EXIT
    PG_AS=()
    if [ "$(id -u)" = 0 ]; then
        # initdb refuses to run as root
        chown postgres: "$PG_TMP"
        PG_AS=(runuser -u postgres --)
    fi
    local port
    port="$(free_port)"
    export PGDATA="$PG_TMP/data"

    "${PG_AS[@]}" "$PG_BIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 --no-locale >"$PG_TMP/initdb.log" 2>&1 \
        || { cat "$PG_TMP/initdb.log" >&2; exit 1; }
    STOP_PG=("${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w stop)
    trap stop_postgres EXIT
    "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$PG_TMP/server.log" -w -t 60 start \
        -o "-p $port -k $PG_TMP -c listen_addresses=127.0.0.1$options" >/dev/null \
        || { cat "$PG_TMP/server.log" >&2; exit 1; }

    "${PG_AS[@]}" "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres "$database"
    export DATABASE_URL="postgres://postgres@127.0.0.1:$port/$database"
    JOBS_TEST_PG_CTL="${PG_AS[*]} $PG_BIN/pg_ctl -D $PGDATA -l $PG_TMP/server.log"
    export JOBS_TEST_PG_CTL
    echo "== PostgreSQL $("$PG_BIN/pg_ctl" --version | awk '{print $3}') on 127.0.0.1:$port (data in $PG_TMP)" >&2
}

stop_postgres() {
    local status=$?
    "${STOP_PG[@]}" >/dev/null 2>&1 || true
    rm -rf "$PG_TMP"
    exit "$status"
}

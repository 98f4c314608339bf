#!/usr/bin/env bash
# pgbench against patina and PostgreSQL 15 on this machine, in one run:
# `pgbench -i -s SCALE` on each, then the select-only (-S) and tpcb-like
# scripts with 1 and 8 clients for SECONDS each, prepared protocol, and a
# table of transactions per second with the ratio patina/PostgreSQL.
#
#   cargo build --release -p patina-cli
#   tests/benches/pgbench.sh            # PGBENCH_SECONDS=10 PGBENCH_SCALE=1
#
# PATINA_BIN (default target/release/patina) and PG_BIN_DIR (default
# /usr/lib/postgresql/15/bin) pick the binaries. patina runs with
# `--durability normal` (WAL, synchronous=NORMAL) and PostgreSQL with
# `synchronous_commit=off`: neither waits for an fsync per commit. As root,
# PostgreSQL runs as the OS user postgres (initdb refuses root). Both
# servers are stopped and their folders removed on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."

PG_BIN_DIR=${PG_BIN_DIR:-/usr/lib/postgresql/15/bin}
PATINA_BIN=${PATINA_BIN:-target/release/patina}
SECONDS_EACH=${PGBENCH_SECONDS:-10}
SCALE=${PGBENCH_SCALE:-1}
PGBENCH=$PG_BIN_DIR/pgbench

say() { echo "pgbench.sh: $*" >&2; }
die() { say "$*"; exit 1; }

[[ -x $PATINA_BIN ]] || die "no patina at $PATINA_BIN (cargo build --release -p patina-cli)"
for tool in initdb pg_ctl pgbench; do
    [[ -x $PG_BIN_DIR/$tool ]] || die "no $PG_BIN_DIR/$tool (PostgreSQL 15)"
done

work=$(mktemp -d /tmp/patina-pgbench.XXXXXX)
patina_pid=
as_pg=()
if [[ $EUID == 0 ]]; then
    id postgres >/dev/null 2>&1 || useradd -m postgres
    chown postgres "$work"
    as_pg=(runuser -u postgres --)
fi
cleanup() {
    [[ -n $patina_pid ]] && kill "$patina_pid" 2>/dev/null && wait "$patina_pid" 2>/dev/null
    if [[ -d $work/pg ]]; then
        "${as_pg[@]}" "$PG_BIN_DIR/pg_ctl" stop -D "$work/pg" -m immediate -w >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits (bounded) until a server at port $1 answers a query.
wait_ready() {
    for _ in $(seq 1 300); do
        if "$PG_BIN_DIR/psql" -X -q -h 127.0.0.1 -p "$1" -U postgres -d postgres \
            -c 'SELECT 1' >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
    done
    die "the server on port $1 did not come up"
}

pg_port=$(free_port)
"${as_pg[@]}" "$PG_BIN_DIR/initdb" -D "$work/pg" -U postgres -A trust --locale=C -E UTF8 >/dev/null
"${as_pg[@]}" "$PG_BIN_DIR/pg_ctl" start -D "$work/pg" -l "$work/pg.log" -w -o \
    "-p $pg_port -k $work -c listen_addresses=127.0.0.1 -c synchronous_commit=off" >/dev/null
wait_ready "$pg_port"

patina_port=$(free_port)
"$PATINA_BIN" agent --data-dir "$work/patina" --pg-addr "127.0.0.1:$patina_port" \
    --gossip-addr "127.0.0.1:$(free_port)" --durability normal --log-level warn \
    >"$work/patina.log" 2>&1 &
patina_pid=$!
wait_ready "$patina_port"

bench() { # port, args… → tps
    local port=$1
    shift
    "$PGBENCH" -h 127.0.0.1 -p "$port" -U postgres "$@" postgres 2>"$work/err" |
        sed -n 's/^tps = \([0-9.]*\) .*/\1/p' || { cat "$work/err" >&2; die "pgbench $* failed"; }
}

for port in "$pg_port" "$patina_port"; do
    "$PGBENCH" -h 127.0.0.1 -p "$port" -U postgres -i -q -s "$SCALE" postgres >/dev/null 2>&1 ||
        die "pgbench -i on port $port failed"
done

echo "| script | clients | PostgreSQL tps | patina tps | patina/PostgreSQL |"
echo "|---|---|---|---|---|"
for script in select-only tpcb-like; do
    for clients in 1 8; do
        threads=$((clients < 2 ? clients : 2))
        args=(-b "$script" -M prepared -c "$clients" -j "$threads" -T "$SECONDS_EACH")
        pg_tps=$(bench "$pg_port" "${args[@]}")
        patina_tps=$(bench "$patina_port" "${args[@]}")
        [[ -n $pg_tps && -n $patina_tps ]] || die "no tps for $script -c $clients"
        ratio=$(python3 -c "print(f'{$patina_tps / $pg_tps:.2f}×')")
        printf '| %s | %s | %.0f | %.0f | %s |\n' "$script" "$clients" "$pg_tps" "$patina_tps" "$ratio"
    done
done

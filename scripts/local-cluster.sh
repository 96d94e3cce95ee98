#!/usr/bin/env bash
# The local Ferry cluster on loopback: a 3-node ZooKeeper ensemble (client ports 2181-2183, conf/zoo1..3.cfg)
# and three brokers (9092-9094, conf/server-1..3.properties).
#
#   scripts/local-cluster.sh start    install what is missing, build release, start the ensemble and the brokers
#   scripts/local-cluster.sh status   one line per process with its pid, port and state
#   scripts/local-cluster.sh stop     stop everything this script started (brokers first, cleanly)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$ROOT"
RUN_DIR="$ROOT/var/run"
BROKERS=(1 2 3)

broker_pid() {
    local pf="$RUN_DIR/broker-$1.pid" pid
    [ -f "$pf" ] || return 1
    pid=$(cat "$pf")
    kill -0 "$pid" 2>/dev/null && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q "server-$1.properties" || return 1
    echo "$pid"
}

broker_port() { sed -n 's#^listeners=PLAINTEXT://[^:]*:\([0-9]*\).*#\1#p' "conf/server-$1.properties"; }

registered() {
    "$(ferry_bin)" zookeeper-shell 127.0.0.1:2181,127.0.0.1:2182,127.0.0.1:2183 stat "/brokers/ids/$1" >/dev/null 2>&1
}

start_brokers() {
    mkdir -p "$RUN_DIR" var/log
    local n bin
    bin=$(ferry_bin)
    for n in "${BROKERS[@]}"; do
        if broker_pid "$n" >/dev/null; then echo "local-cluster: broker $n already running" >&2; continue; fi
        nohup "$bin" server "conf/server-$n.properties" > "var/log/broker-$n.out" 2>&1 < /dev/null &
        echo $! > "$RUN_DIR/broker-$n.pid"
    done
    for n in "${BROKERS[@]}"; do
        local deadline=$((SECONDS + 30))
        until registered "$n"; do
            if ! broker_pid "$n" >/dev/null; then echo "local-cluster: broker $n exited; see var/log/broker-$n.out" >&2; tail -n 5 "var/log/broker-$n.out" >&2; exit 1; fi
            [ $SECONDS -lt $deadline ] || { echo "local-cluster: broker $n did not register in 30 s" >&2; exit 1; }
            sleep 0.2
        done
    done
}

stop_brokers() {
    local n pid
    for n in "${BROKERS[@]}"; do
        pid=$(broker_pid "$n") || continue
        kill -TERM "$pid"
        for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
        rm -f "$RUN_DIR/broker-$n.pid"
        echo "local-cluster: stopped broker $n (pid $pid)" >&2
    done
}

status() {
    local rc=0 n pid state
    bash scripts/zk-ensemble.sh status || rc=3
    for n in "${BROKERS[@]}"; do
        if pid=$(broker_pid "$n"); then
            if registered "$n"; then state="registered"; else state="not registered"; rc=3; fi
        else
            pid="-"; state="stopped"; rc=3
        fi
        printf 'broker%s  127.0.0.1:%s  pid %s  %s\n' "$n" "$(broker_port "$n")" "$pid" "$state"
    done
    return $rc
}

case "${1:-}" in
    start)
        bash scripts/setup.sh
        echo "local-cluster: building ferry (release)" >&2
        swift build -c release
        bash scripts/zk-ensemble.sh start >/dev/null
        FERRY_BIN="$ROOT/.build/release/ferry" start_brokers
        status
        ;;
    status) status ;;
    stop)
        stop_brokers
        bash scripts/zk-ensemble.sh stop
        ;;
    *)
        echo "usage: scripts/local-cluster.sh start|status|stop" >&2
        exit 2
        ;;
esac

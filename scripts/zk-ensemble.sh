#!/usr/bin/env bash
# Runs a local ZooKeeper ensemble from Debian's `zookeeper` package, one server per zoo<N>.cfg.
#
#   scripts/zk-ensemble.sh [--conf-dir DIR] start [N]   start every node (or node N) and wait for a quorum
#   scripts/zk-ensemble.sh [--conf-dir DIR] stop [N]    stop what this script started (by pid file)
#   scripts/zk-ensemble.sh [--conf-dir DIR] kill N      kill -9 node N (failure tests)
#   scripts/zk-ensemble.sh [--conf-dir DIR] status      one line per node: id, address, pid, mode
#   scripts/zk-ensemble.sh [--conf-dir DIR] wipe        stop, then delete every node's data directory
#
# DIR defaults to conf/ (the local cluster: client ports 2181-2183). The node id is the number in the
# file name; the script writes it to dataDir/myid. Relative dataDir paths are resolved from the
# repository root. Pid files live in each node's data directory, so only processes started here are
# ever signalled, and only if their command line still names the same config file.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CONF_DIR="$ROOT/conf"
ZKSERVER=${ZKSERVER:-/usr/share/zookeeper/bin/zkServer.sh}
START_TIMEOUT=${ZK_START_TIMEOUT:-90}

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

while [ $# -gt 0 ]; do
    case "$1" in
        --conf-dir) CONF_DIR=$(cd "$2" && pwd); shift 2 ;;
        --conf-dir=*) CONF_DIR=$(cd "${1#*=}" && pwd); shift ;;
        -h|--help) usage ;;
        *) break ;;
    esac
done
[ $# -ge 1 ] || usage
COMMAND=$1; shift

log() { echo "zk-ensemble: $*" >&2; }

# The node ids configured in CONF_DIR, ascending.
nodes() {
    local f
    for f in "$CONF_DIR"/zoo*.cfg; do
        [ -e "$f" ] || continue
        f=${f##*/zoo}; echo "${f%.cfg}"
    done | grep -E '^[0-9]+$' | sort -n
}

cfg_file() { echo "$CONF_DIR/zoo$1.cfg"; }

cfg_value() { # cfg_value N key
    sed -n "s/^[[:space:]]*$2[[:space:]]*=[[:space:]]*//p" "$(cfg_file "$1")" | tail -n 1 | tr -d '[:space:]'
}

data_dir() {
    local d; d=$(cfg_value "$1" dataDir)
    [ -n "$d" ] || { log "$(cfg_file "$1") has no dataDir"; exit 1; }
    case "$d" in /*) echo "$d" ;; *) echo "$ROOT/$d" ;; esac
}

client_port() { cfg_value "$1" clientPort; }
client_host() { local h; h=$(cfg_value "$1" clientPortAddress); echo "${h:-127.0.0.1}"; }
pid_file() { echo "$(data_dir "$1")/ferry-zk.pid"; }

# Prints the pid of node N if it is running and was started by this script for this config.
running_pid() {
    local pf pid; pf=$(pid_file "$1")
    [ -f "$pf" ] || return 1
    pid=$(cat "$pf")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF "$(cfg_file "$1")" || return 1
    echo "$pid"
}

# Asks node N for its mode (leader, follower, standalone) with the srvr four-letter word.
node_mode() {
    local reply
    reply=$(timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1" && printf srvr >&3 && cat <&3' \
        "$(client_host "$1")" "$(client_port "$1")" 2>/dev/null) || true
    sed -n 's/^Mode: //p' <<<"$reply" | tr -d '[:space:]'
}

start_node() {
    local n=$1 dd pid cfg
    cfg=$(cfg_file "$n")
    [ -f "$cfg" ] || { log "no config $cfg"; exit 1; }
    if pid=$(running_pid "$n"); then log "node $n already running (pid $pid)"; return 0; fi
    command -v java >/dev/null && [ -x "$ZKSERVER" ] || {
        log "Debian's zookeeper package is not installed (apt-get install zookeeper)"; exit 1; }
    dd=$(data_dir "$n")
    mkdir -p "$dd"
    echo "$n" > "$dd/myid"
    # start-foreground execs java, so $! is the server's own pid. Logs go to the console appender,
    # redirected into the node's data dir, instead of Debian's shared /var/log/zookeeper file.
    (
        cd "$ROOT"
        # The server outlives this script: it must not hold the caller's pipes or sockets open (a caller
        # waiting for this script's output, or for its exit, would wait for the server instead).
        for fd in /proc/self/fd/*; do
            fd=${fd##*/}
            if [ "$fd" -gt 2 ] 2>/dev/null; then eval "exec $fd>&-" 2>/dev/null || true; fi
        done
        export JMXDISABLE=true
        export JVMFLAGS="-Xmx256m -Dzookeeper.root.logger=INFO,CONSOLE -Dzookeeper.log.dir=$dd ${ZK_JVMFLAGS:-}"
        exec setsid "$ZKSERVER" start-foreground "$cfg" >"$dd/zookeeper.out" 2>&1 </dev/null
    ) &
    echo $! > "$(pid_file "$n")"
    log "started node $n (pid $!, client port $(client_port "$n"), log $dd/zookeeper.out)"
}

# Waits until every node in "$@" serves as leader or follower and exactly one of them leads
# (when all nodes were asked for), or the timeout passes.
wait_for_quorum() {
    local deadline=$((SECONDS + START_TIMEOUT)) n mode leaders ready all_nodes
    all_nodes=$(nodes | wc -l)
    while :; do
        leaders=0; ready=0
        for n in "$@"; do
            # Alive is enough here: just after start_node the pid may still be the subshell about to exec the
            # server, whose command line running_pid would not recognise yet.
            kill -0 "$(cat "$(pid_file "$n")" 2>/dev/null)" 2>/dev/null || {
                log "node $n exited; see $(data_dir "$n")/zookeeper.out"; tail -n 20 "$(data_dir "$n")/zookeeper.out" >&2 || true; return 1; }
            mode=$(node_mode "$n")
            case "$mode" in
                leader|standalone) leaders=$((leaders + 1)); ready=$((ready + 1)) ;;
                follower) ready=$((ready + 1)) ;;
            esac
        done
        if [ "$ready" -eq $# ] && { [ $# -ne "$all_nodes" ] || [ "$leaders" -eq 1 ]; }; then
            return 0
        fi
        if [ $SECONDS -ge $deadline ]; then
            log "no quorum after ${START_TIMEOUT}s"; return 1
        fi
        sleep 0.2
    done
}

stop_node() {
    local n=$1 pid i
    pid=$(running_pid "$n") || { rm -f "$(pid_file "$n")"; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "node $n (pid $pid) ignored SIGTERM for 10s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$(pid_file "$n")"
    log "stopped node $n (pid $pid)"
}

status() {
    local n pid mode rc=0
    for n in $(nodes); do
        if pid=$(running_pid "$n"); then
            mode=$(node_mode "$n")
            [ -n "$mode" ] || { mode="not serving"; rc=3; }
        else
            pid="-"; mode="stopped"; rc=3
        fi
        printf 'zk%s  %s:%s  pid %s  %s\n' "$n" "$(client_host "$n")" "$(client_port "$n")" "$pid" "$mode"
    done
    return $rc
}

selected_nodes() { if [ $# -gt 0 ]; then echo "$@"; else nodes; fi; }

case "$COMMAND" in
    start)
        targets=$(selected_nodes "$@")
        [ -n "$targets" ] || { log "no zoo<N>.cfg in $CONF_DIR"; exit 1; }
        for n in $targets; do start_node "$n"; done
        # shellcheck disable=SC2086
        wait_for_quorum $targets || exit 1
        status || true
        ;;
    stop) for n in $(selected_nodes "$@"); do stop_node "$n"; done ;;
    kill)
        [ $# -eq 1 ] || usage
        if pid=$(running_pid "$1"); then kill -KILL "$pid"; rm -f "$(pid_file "$1")"; log "killed node $1 (pid $pid)"; fi
        ;;
    status) status ;;
    wipe)
        for n in $(nodes); do stop_node "$n"; done
        for n in $(nodes); do rm -rf "$(data_dir "$n")"; done
        log "wiped data of nodes $(nodes | tr '\n' ' ')"
        ;;
    *) usage ;;
esac

# Shared by the broker benchmarks (bench-broker.sh, bench-cluster.sh): sourced after lib/common.sh.

# Prepares a benchmark run in $1 (emptied): set-up, the release build, the native load generator
# ($1/rdkafka_load) and a one-node ZooKeeper on 127.0.0.1:22181, stopped when the script exits.
bench_prepare() {
    local bench=$1
    bash scripts/setup.sh
    # The load generator links the librdkafka that confluent-kafka ships (the neutral client, and new enough to
    # talk to Tansu, which Debian's 2.0.2 cannot); only its header comes from Debian's librdkafka-dev.
    if ! dpkg -s librdkafka-dev >/dev/null 2>&1; then
        echo "bench: installing librdkafka-dev for rdkafka.h" >&2
        DEBIAN_FRONTEND=noninteractive $( [ "$(id -u)" -ne 0 ] && echo sudo ) apt-get install -y -qq librdkafka-dev >/dev/null
    fi
    swift build -c release --product ferry >&2
    rm -rf "$bench"
    mkdir -p "$bench/zk-conf"
    local wheel_libs
    wheel_libs=$(echo "$ROOT"/.venv/lib/python3*/site-packages/confluent_kafka.libs)
    cc -O2 -Wall -o "$bench/rdkafka_load" scripts/bench/rdkafka_load.c "$wheel_libs"/librdkafka-*.so.1 -Wl,-rpath,"$wheel_libs"
    cat > "$bench/zk-conf/zoo1.cfg" <<CFG
tickTime=2000
dataDir=$bench/zk/1
clientPortAddress=127.0.0.1
clientPort=22181
admin.enableServer=false
4lw.commands.whitelist=srvr
CFG
    BENCH_DIR=$bench
    trap 'pkill -9 -f "ferry server $BENCH_DIR" 2>/dev/null || true; bash scripts/zk-ensemble.sh --conf-dir "$BENCH_DIR/zk-conf" stop >/dev/null 2>&1 || true' EXIT
    bash scripts/zk-ensemble.sh --conf-dir "$bench/zk-conf" start >/dev/null
    echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%d)"
}

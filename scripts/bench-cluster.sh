#!/usr/bin/env bash
# Cluster benchmark: three Ferry brokers on loopback with a one-node ZooKeeper on 127.0.0.1:22181 (under
# var/bench-cluster), librdkafka as the client (the native load generator of bench-broker.sh). Prints produce
# records/s with RF 3 at acks=1 and acks=all (min.insync.replicas 2) next to one broker with RF 1 in the same run,
# and the leader failover time after kill -9 and after a controlled shutdown.
#   scripts/bench-cluster.sh [records (default 1000000)] [--rounds N (3)] [--failovers N (3)]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$ROOT"
source "$ROOT/scripts/lib/bench.sh"
bench="$ROOT/var/bench-cluster"
bench_prepare "$bench"
RDKAFKA_LOAD="$bench/rdkafka_load" "$ROOT/.venv/bin/python" scripts/bench_cluster.py --ferry "$ROOT/.build/release/ferry" \
    --zk 127.0.0.1:22181 --dir "$bench" --records "${1:-1000000}" "${@:2}"

#!/usr/bin/env bash
# Consumer-group benchmark: three Ferry brokers on loopback with a one-node ZooKeeper on 127.0.0.1:22181 (under
# var/bench-groups); confluent-kafka consumers. Prints the rebalance time of 10 consumers joining a 100-partition
# topic (and of an 11th joining them) and synchronous group commits per second.
#   scripts/bench-groups.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$ROOT"
source "$ROOT/scripts/lib/bench.sh"
bench="$ROOT/var/bench-groups"
bench_prepare "$bench"
PYTHONPATH="$ROOT/scripts" "$ROOT/.venv/bin/python" scripts/bench_groups.py --ferry "$ROOT/.build/release/ferry" --zk 127.0.0.1:22181 --dir "$bench"

#!/usr/bin/env bash
# Client benchmark (issue 7): Ferry's Swift producer (kafka-producer-perf-test.sh) against librdkafka (the native load
# generator, scripts/bench/rdkafka_load.c) on the same one-broker Ferry, alternating, in the same run. Both send
# 100-byte records to one partition with acks=1, batch.size=1000000 and linger.ms=5 (librdkafka's batching defaults),
# so the figure compares the clients, not their settings. Prints each round and the median ratio.
#   scripts/bench-client.sh [records (default 2000000)] [rounds (default 3)]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$ROOT"
source "$ROOT/scripts/lib/bench.sh"
bench="$ROOT/var/bench-client"
bench_prepare "$bench"
records=${1:-2000000}
rounds=${2:-3}
port=29192
cat > "$bench/server.properties" <<PROPS
broker.id=1
listeners=PLAINTEXT://127.0.0.1:$port
log.dirs=$bench/ferry-logs
zookeeper.connect=127.0.0.1:22181/ferry-bench-client-$$
PROPS
"$ROOT/.build/release/ferry" server "$bench/server.properties" > "$bench/ferry.out" 2>&1 &
export FERRY_BIN="$ROOT/.build/release/ferry"
for _ in $(seq 1 100); do grep -q started "$bench/ferry.out" && break; sleep 0.1; done
bootstrap=127.0.0.1:$port
scripts/kafka-topics.sh --bootstrap-server "$bootstrap" --create --topic bench-swift --partitions 1 --replication-factor 1 >/dev/null
scripts/kafka-topics.sh --bootstrap-server "$bootstrap" --create --topic bench-rdkafka --partitions 1 --replication-factor 1 >/dev/null
echo "bench-client: $records records of 100 bytes, 1 partition, acks=1, batch.size=1000000, linger.ms=5; $rounds rounds"
ratios=()
for round in $(seq 1 "$rounds"); do
    line=$(scripts/kafka-producer-perf-test.sh --topic bench-swift --num-records "$records" --record-size 100 --throughput -1 \
        --producer-props bootstrap.servers="$bootstrap" acks=1 batch.size=1000000 linger.ms=5 | tail -1)
    swift_rate=$(echo "$line" | sed -E 's/^[0-9]+ records sent, ([0-9.]+) records\/sec.*/\1/')
    rdkafka_rate=$("$bench/rdkafka_load" produce "$bootstrap" bench-rdkafka "$records" 100 1)
    ratio=$(python3 -c "print(f'{$swift_rate / $rdkafka_rate:.2f}')")
    ratios+=("$ratio")
    printf 'round %d: Swift client %.0f rec/s, librdkafka %.0f rec/s, ratio %s\n  (%s)\n' "$round" "$swift_rate" "$rdkafka_rate" "$ratio" "$line"
done
echo "median Swift / librdkafka: $(printf '%s\n' "${ratios[@]}" | sort -n | sed -n "$(( (rounds + 1) / 2 ))p") (target >= 0.80)"

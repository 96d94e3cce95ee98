#!/usr/bin/env python3
"""Broker benchmark (run by scripts/bench-broker.sh): Ferry and Tansu side by side, same client, same run.

librdkafka is the neutral client, driven by a native load generator (scripts/bench/rdkafka_load.c), since a
Python client saturates its one core near 300k records/s; one partition; 100-byte records. Printed per broker:
produce records/s with acks=1 and acks=all, consume records/s from the start of the log, end-to-end latency
p50/p99 at a low rate, broker RSS (idle, after the run), time from process start to serving. Then the ratios.
Everything runs on 127.0.0.1; both brokers are stopped at the end.
"""
import argparse
import os
import resource
import socket
import subprocess
import sys
import time

from confluent_kafka.admin import AdminClient, NewTopic

RECORD = b"x" * 100
LOAD = os.environ.get("RDKAFKA_LOAD", "rdkafka_load")


def wait_port(port, deadline):
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.002)
    return False


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def start(command, port, log):
    began = time.time()
    process = subprocess.Popen(command, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    if not wait_port(port, began + 30):
        process.kill()
        sys.exit(f"bench-broker: {command[0]} did not listen on {port}; see {log}")
    bootstrap = f"127.0.0.1:{port}"
    # Serving = answering metadata, not just accepting connections.
    AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=30)
    return process, time.time() - began


def create_topic(bootstrap, name):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(name, 1, 1)]).values():
        future.result(timeout=30)
    deadline = time.time() + 30
    while time.time() < deadline:
        topic = admin.list_topics(timeout=10).topics.get(name)
        if topic is not None and topic.partitions and topic.partitions[0].leader >= 0:
            return
        time.sleep(0.05)
    sys.exit(f"bench-broker: topic {name} got no leader on {bootstrap}")


def warm_group_coordinator(bootstrap, group, topic):
    """Asks for the group's committed offset, which needs its coordinator: a broker creates its group-coordination
    state (Kafka and Ferry: `__consumer_offsets`) on the first such request, a one-time cost of a new cluster that
    would otherwise land in the timed consume (the load generator's consumer has a group.id, as librdkafka's must)."""
    from confluent_kafka import Consumer, TopicPartition
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        consumer.committed([TopicPartition(topic, 0)], timeout=60)
    finally:
        consumer.close()


def children_cpu_seconds():
    """User + system CPU time of the finished child processes (the load generator runs) so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def load(*args):
    """Runs the native librdkafka load generator (scripts/bench/rdkafka_load.c) and returns its numbers."""
    result = subprocess.run([LOAD, *map(str, args)], capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        sys.exit(f"bench-broker: rdkafka_load {' '.join(map(str, args))} failed: {result.stderr.strip()}")
    return [float(field) for field in result.stdout.split()]


def produce(bootstrap, topic, count, acks):
    return load("produce", bootstrap, topic, count, len(RECORD), acks)[0]


def consume(bootstrap, topic, count):
    return load("consume", bootstrap, topic, count)[0]


def latency(bootstrap, topic, count):
    p50, p99 = load("latency", bootstrap, topic, count)
    return p50, p99


def process_cpu_seconds(pid):
    """User + system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_ticks():
    """(steal, total) jiffies from /proc/stat: a virtual machine's stolen CPU explains noisy figures."""
    with open("/proc/stat") as handle:
        fields = [int(field) for field in handle.readline().split()[1:]]
    return fields[7], sum(fields)


def bench(name, command, port, log, records):
    steal_before, total_before = cpu_ticks()
    process, started = start(command, port, log)
    bootstrap = f"127.0.0.1:{port}"
    try:
        idle = rss_mb(process.pid)
        create_topic(bootstrap, "bench-acks1")
        create_topic(bootstrap, "bench-acksall")
        create_topic(bootstrap, "bench-latency")
        warm_group_coordinator(bootstrap, "rdkafka-load", "bench-acks1")
        warm_group_coordinator(bootstrap, "rdkafka-latency", "bench-latency")
        # The client shares the two cores with the broker, so the broker's own CPU per record is printed too.
        cpu, client_cpu = process_cpu_seconds(process.pid), children_cpu_seconds()
        acks1 = produce(bootstrap, "bench-acks1", records, 1)
        produce_cpu = (process_cpu_seconds(process.pid) - cpu) / records * 1e6
        produce_client_cpu = (children_cpu_seconds() - client_cpu) / records * 1e6
        acks_all = produce(bootstrap, "bench-acksall", records // 2, "all")
        cpu = process_cpu_seconds(process.pid)
        consumed = consume(bootstrap, "bench-acks1", records)
        consume_cpu = (process_cpu_seconds(process.pid) - cpu) / records * 1e6
        p50, p99 = latency(bootstrap, "bench-latency", 2000)
        after = rss_mb(process.pid)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
    result = {"produce acks=1 (records/s)": acks1, "produce acks=all (records/s)": acks_all,
              "consume (records/s)": consumed,
              "broker CPU, produce (s per 1M rec)": produce_cpu, "broker CPU, consume (s per 1M rec)": consume_cpu,
              "client CPU, produce (s per 1M rec)": produce_client_cpu,
              "e2e p50 (ms)": p50, "e2e p99 (ms)": p99,
              "RSS idle (MB)": idle, "RSS after run (MB)": after, "start to serving (ms)": started * 1000}
    steal_after, total_after = cpu_ticks()
    steal = 100 * (steal_after - steal_before) / max(1, total_after - total_before)
    print(f"\n{name}")
    for key, value in result.items():
        print(f"  {key:36} {value:14,.2f}")
    print(f"  (CPU stolen by the hypervisor during this run: {steal:.1f}%)")
    return result


LOAD_VERSION = __import__("confluent_kafka").libversion()[0]  # the generator links confluent-kafka's librdkafka


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ferry", required=True)
    parser.add_argument("--tansu")
    parser.add_argument("--zk", required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--records", type=int, default=1_000_000)
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    properties = os.path.join(args.dir, "server.properties")
    with open(properties, "w") as handle:
        handle.write(f"broker.id=1\nlisteners=PLAINTEXT://127.0.0.1:29092\nlog.dirs={args.dir}/ferry-logs\n"
                     f"zookeeper.connect={args.zk}/ferry-bench-{int(time.time())}\n")
    print(f"bench-broker: {args.records:,} records of {len(RECORD)} bytes, 1 partition, librdkafka {LOAD_VERSION}")
    ferry = bench("Ferry", [args.ferry, "server", properties], 29092, os.path.join(args.dir, "ferry.out"), args.records)
    if not args.tansu:
        print("\n(no Tansu: ratios not measured)")
        return
    tansu = bench("Tansu (memory storage)", [args.tansu, "broker", "--listener-url", "tcp://127.0.0.1:29093",
                  "--advertised-listener-url", "tcp://127.0.0.1:29093"], 29093, os.path.join(args.dir, "tansu.out"),
                  args.records)
    print("\nFerry / Tansu")
    for key in ferry:
        if tansu[key]:
            print(f"  {key:36} {ferry[key] / tansu[key]:14.2f}")


if __name__ == "__main__":
    main()

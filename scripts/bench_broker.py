#!/usr/bin/env python3
"""Broker benchmark (run by scripts/bench-broker.sh): Ferry and Tansu side by side, same client, same run.

librdkafka (confluent-kafka) is the neutral client; one partition; 100-byte records. Printed per broker:
produce records/s with acks=1 and acks=all, consume records/s from the start of the log, end-to-end latency
p50/p99 at a low rate, broker RSS (idle, after the run), time from process start to serving. Then the ratios.
Everything runs on 127.0.0.1; both brokers are stopped at the end.
"""
import argparse
import os
import socket
import subprocess
import sys
import threading
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

RECORD = b"x" * 100


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


def produce(bootstrap, topic, count, acks):
    producer = Producer({
        "bootstrap.servers": bootstrap, "acks": acks, "linger.ms": 5, "batch.size": 1_000_000,
        "queue.buffering.max.messages": 2_000_000, "queue.buffering.max.kbytes": 2_000_000, "enable.idempotence": False,
    })
    failures = []
    began = time.time()
    for _ in range(count):
        while True:
            try:
                producer.produce(topic, RECORD, partition=0, on_delivery=lambda err, msg: err and failures.append(err))
                break
            except BufferError:
                producer.poll(0.01)
    remaining = producer.flush(120)
    elapsed = time.time() - began
    if remaining or failures:
        sys.exit(f"bench-broker: {remaining} undelivered, {len(failures)} failed on {bootstrap}: {failures[:3]}")
    return count / elapsed


def consume(bootstrap, topic, count):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench", "enable.auto.commit": False,
                         "fetch.max.bytes": 52_428_800, "max.partition.fetch.bytes": 10_485_760})
    consumer.assign([TopicPartition(topic, 0, 0)])
    received = 0
    began = time.time()
    deadline = began + 120
    while received < count and time.time() < deadline:
        for message in consumer.consume(num_messages=10_000, timeout=1):
            if message.error() is None:
                received += 1
    elapsed = time.time() - began
    consumer.close()
    if received < count:
        sys.exit(f"bench-broker: consumed {received} of {count} from {bootstrap}")
    return count / elapsed


def latency(bootstrap, topic, count):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-latency", "enable.auto.commit": False,
                         "fetch.wait.max.ms": 100, "fetch.min.bytes": 1})
    end = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)[1]
    consumer.assign([TopicPartition(topic, 0, end)])
    samples = []
    done = threading.Event()

    def receive():
        while len(samples) < count and not done.is_set():
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                samples.append(time.perf_counter() - float(message.value().decode()))

    thread = threading.Thread(target=receive)
    thread.start()
    time.sleep(1.0)  # let the consumer's first fetch reach the log end before measuring
    producer = Producer({"bootstrap.servers": bootstrap, "acks": 1, "linger.ms": 0, "enable.idempotence": False})
    for _ in range(count):
        producer.produce(topic, str(time.perf_counter()).encode(), partition=0)
        producer.poll(0)
        time.sleep(0.002)
    producer.flush(30)
    thread.join(30)
    done.set()
    consumer.close()
    samples.sort()
    if len(samples) < count // 2:
        return float("nan"), float("nan")
    return samples[len(samples) // 2] * 1000, samples[int(len(samples) * 0.99) - 1] * 1000


def bench(name, command, port, log, records):
    process, started = start(command, port, log)
    bootstrap = f"127.0.0.1:{port}"
    try:
        idle = rss_mb(process.pid)
        create_topic(bootstrap, "bench-acks1")
        create_topic(bootstrap, "bench-acksall")
        create_topic(bootstrap, "bench-latency")
        acks1 = produce(bootstrap, "bench-acks1", records, 1)
        acks_all = produce(bootstrap, "bench-acksall", records // 2, "all")
        consumed = consume(bootstrap, "bench-acks1", records)
        p50, p99 = latency(bootstrap, "bench-latency", 500)
        after = rss_mb(process.pid)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
    result = {"produce acks=1 (records/s)": acks1, "produce acks=all (records/s)": acks_all,
              "consume (records/s)": consumed, "e2e p50 (ms)": p50, "e2e p99 (ms)": p99,
              "RSS idle (MB)": idle, "RSS after run (MB)": after, "start to serving (ms)": started * 1000}
    print(f"\n{name}")
    for key, value in result.items():
        print(f"  {key:32} {value:14,.1f}")
    return result


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
    print(f"bench-broker: {args.records:,} records of {len(RECORD)} bytes, 1 partition, librdkafka via confluent-kafka")
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
            print(f"  {key:32} {ferry[key] / tansu[key]:14.2f}")


if __name__ == "__main__":
    main()

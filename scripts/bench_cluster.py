#!/usr/bin/env python3
"""Cluster benchmark (run by scripts/bench-cluster.sh): three Ferry brokers, RF 3, against one broker, RF 1.

Throughput comes from the native librdkafka load generator; failover is measured with confluent-kafka: the time
from killing (or stopping) a partition's leader to the first acks=all produce to that partition that succeeds.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

LOAD = os.environ.get("RDKAFKA_LOAD", "rdkafka_load")
SESSION_TIMEOUT_MS = 6000


def load(*args):
    result = subprocess.run([LOAD, *map(str, args)], capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        sys.exit(f"bench-cluster: rdkafka_load {' '.join(map(str, args))} failed: {result.stderr.strip()}")
    return float(result.stdout.split()[0])


class Broker:
    def __init__(self, ferry, directory, zk, broker_id, port):
        self.id, self.port, self.command = broker_id, port, None
        self.properties = os.path.join(directory, f"server-{broker_id}.properties")
        with open(self.properties, "w") as handle:
            handle.write(f"broker.id={broker_id}\nlisteners=PLAINTEXT://127.0.0.1:{port}\nlog.dirs={directory}/logs-{broker_id}\n"
                         f"zookeeper.connect={zk}\nzookeeper.session.timeout.ms={SESSION_TIMEOUT_MS}\n")
        self.ferry, self.log = ferry, os.path.join(directory, f"broker-{broker_id}.out")
        self.start()

    def start(self):
        before = os.path.getsize(self.log) if os.path.exists(self.log) else 0
        self.process = subprocess.Popen([self.ferry, "server", self.properties], stdout=open(self.log, "a"), stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while "started" not in open(self.log).read()[before:]:
            if time.time() > deadline or self.process.poll() is not None:
                sys.exit(f"bench-cluster: broker {self.id} did not start; see {self.log}")
            time.sleep(0.02)

    def stop(self, sig=signal.SIGTERM):
        if self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(30)


def create_topic(bootstrap, name, partitions, replicas, configs=None):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    deadline = time.time() + 30
    while admin.list_topics(timeout=10).controller_id < 0:  # CreateTopics goes to the controller
        if time.time() > deadline:
            sys.exit("bench-cluster: no controller elected")
        time.sleep(0.05)
    for future in admin.create_topics([NewTopic(name, partitions, replicas, config=configs or {})], operation_timeout=30).values():
        future.result(timeout=40)


def leader_of(bootstrap, topic):
    metadata = AdminClient({"bootstrap.servers": bootstrap}).list_topics(topic, timeout=10)
    return metadata.topics[topic].partitions[0].leader


def failover(brokers, topic, how):
    """Seconds from killing/stopping partition 0's leader to the first acks=all produce that succeeds."""
    live = [b for b in brokers if b.process.poll() is None]
    bootstrap = ",".join(f"127.0.0.1:{b.port}" for b in live)
    victim = next(b for b in live if b.id == leader_of(bootstrap, topic))
    producer = Producer({"bootstrap.servers": ",".join(f"127.0.0.1:{b.port}" for b in live if b is not victim),
                         "acks": "all", "linger.ms": 0, "retry.backoff.ms": 10, "retry.backoff.max.ms": 20,
                         "topic.metadata.refresh.interval.ms": 100, "message.timeout.ms": 60000})
    producer.produce(topic, b"warm-up", partition=0)
    producer.flush(30)
    began = time.time()
    if how == "kill -9":
        victim.process.send_signal(signal.SIGKILL)
        outcome = []
        producer.produce(topic, b"after", partition=0, on_delivery=lambda err, msg: outcome.append(err))
        producer.flush(60)
        elapsed = time.time() - began
    else:
        # A client producing every 2 ms through the whole shutdown: the longest any record waits for its
        # acknowledgement is the window in which the partition could not take writes.
        victim.process.send_signal(signal.SIGTERM)
        outcome, waits = [], []
        end = None
        while end is None or time.time() < end:
            sent = time.time()
            producer.produce(topic, b"during", partition=0, on_delivery=lambda err, msg, sent=sent: (
                outcome.append(err), waits.append(time.time() - sent)))
            producer.poll(0)
            time.sleep(0.002)
            if end is None and victim.process.poll() is not None:
                end = time.time() + 0.5
        producer.flush(60)
        if any(outcome):
            outcome = [next(err for err in outcome if err)]
        elapsed = max(waits)
    victim.process.wait(30)
    if not outcome or outcome[0] is not None:
        sys.exit(f"bench-cluster: no successful produce after {how}: {outcome}")
    victim.start()
    # The next measurement starts from a healthy cluster: the restarted broker back in the ISR. (Otherwise a
    # controlled shutdown leaves an ISR of one, below min.insync.replicas, until it has caught up.)
    deadline = time.time() + 60
    while len(isr_of(bootstrap, topic)) < len(brokers):
        if time.time() > deadline:
            sys.exit(f"bench-cluster: broker {victim.id} did not rejoin the ISR of {topic} within 60 s")
        time.sleep(0.1)
    return elapsed


def isr_of(bootstrap, topic):
    try:
        return AdminClient({"bootstrap.servers": bootstrap}).list_topics(topic, timeout=5).topics[topic].partitions[0].isrs
    except Exception:  # a broker still starting
        return []


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ferry", required=True)
    parser.add_argument("--zk", required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--records", type=int, default=1_000_000)
    args = parser.parse_args()
    print(f"bench-cluster: {args.records:,} records of 100 bytes, 1 partition, librdkafka {__import__('confluent_kafka').libversion()[0]}")

    run = int(time.time())  # a fresh chroot per run
    single = Broker(args.ferry, args.dir, f"{args.zk}/single-{run}", 1, 29191)
    create_topic(f"127.0.0.1:{single.port}", "rf1", 1, 1)
    rf1 = load("produce", f"127.0.0.1:{single.port}", "rf1", args.records, 100, 1)
    single.stop()

    os.makedirs(os.path.join(args.dir, "cluster"), exist_ok=True)
    brokers = [Broker(args.ferry, os.path.join(args.dir, "cluster"), f"{args.zk}/cluster-{run}", i, 29200 + i) for i in (1, 2, 3)]
    bootstrap = ",".join(f"127.0.0.1:{b.port}" for b in brokers)
    create_topic(bootstrap, "rf3", 1, 3, {"min.insync.replicas": "2"})
    create_topic(bootstrap, "rf3-failover", 1, 3, {"min.insync.replicas": "2"})
    acks1 = load("produce", bootstrap, "rf3", args.records, 100, 1)
    acks_all = load("produce", bootstrap, "rf3", args.records, 100, "all")
    killed = failover(brokers, "rf3-failover", "kill -9")
    controlled = failover(brokers, "rf3-failover", "controlled shutdown")
    for broker in brokers:
        broker.stop()

    rows = [("produce RF 1, one broker (records/s)", rf1), ("produce RF 3, acks=1 (records/s)", acks1),
            ("produce RF 3, acks=all, min.insync 2 (records/s)", acks_all), ("acks=all RF 3 / RF 1", acks_all / rf1),
            (f"failover after kill -9, session timeout {SESSION_TIMEOUT_MS} ms (s)", killed),
            ("controlled shutdown: longest acks=all wait of a record sent every 2 ms (ms)", controlled * 1000)]
    print()
    for name, value in rows:
        print(f"  {name:76} {value:14,.2f}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Cluster benchmark (run by scripts/bench-cluster.sh): three Ferry brokers, RF 3, against one broker, RF 1.

Throughput comes from the native librdkafka load generator, in interleaved rounds (median reported). Failover is
measured with confluent-kafka producing acks=all: after kill -9 of a partition's leader, the time from the ZooKeeper
session's expiry to the first acknowledged record; after SIGTERM, the longest any record waited.
"""
import argparse
import os
import signal
import statistics
import subprocess
import sys
import threading
import time

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from kazoo.client import KazooClient

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
        self.log_dir = f"{directory}/logs-{broker_id}"
        with open(self.properties, "w") as handle:
            handle.write(f"broker.id={broker_id}\nlisteners=PLAINTEXT://127.0.0.1:{port}\nlog.dirs={self.log_dir}\n"
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


def failover(brokers, topic, how, zk):
    """One failover of partition 0's leader. kill -9: (seconds from the kill to the ZooKeeper session's expiry, seen
    as the broker's /brokers/ids znode going away; seconds from that expiry to the first acks=all produce that
    succeeds). Controlled shutdown: the longest any record sent every 2 ms waited for its acknowledgement."""
    live = [b for b in brokers if b.process.poll() is None]
    bootstrap = ",".join(f"127.0.0.1:{b.port}" for b in live)
    victim = next(b for b in live if b.id == leader_of(bootstrap, topic))
    producer = Producer({"bootstrap.servers": ",".join(f"127.0.0.1:{b.port}" for b in live if b is not victim),
                         "acks": "all", "linger.ms": 0, "retry.backoff.ms": 10, "retry.backoff.max.ms": 20,
                         "topic.metadata.refresh.interval.ms": 100, "message.timeout.ms": 60000})
    producer.produce(topic, b"warm-up", partition=0)
    producer.flush(30)
    if how == "kill -9":
        expired = threading.Event()
        expiry = []
        def registration_changed(event):
            if event.type == "DELETED":
                expiry.append(time.time())
                expired.set()
        if zk.exists(f"/brokers/ids/{victim.id}", watch=registration_changed) is None:
            sys.exit(f"bench-cluster: broker {victim.id} is not registered")
        began = time.time()
        victim.process.send_signal(signal.SIGKILL)
        outcome = []
        producer.produce(topic, b"after", partition=0, on_delivery=lambda err, msg: outcome.append((err, time.time())))
        producer.flush(60)
        if not expired.wait(30):
            sys.exit(f"bench-cluster: broker {victim.id}'s session did not expire")
        result = (expiry[0] - began, outcome[0][1] - expiry[0]) if outcome else None
        outcome = [err for err, _ in outcome]
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
        result = max(waits)
    victim.process.wait(30)
    if not outcome or outcome[0] is not None:
        sys.exit(f"bench-cluster: no successful produce after {how}: {outcome}")
    victim.start()
    # The next measurement starts from a healthy cluster: the restarted broker back in every ISR, no partition
    # under-replicated, which is what a rolling restart waits for before it stops the next broker. (Otherwise a
    # controlled shutdown leaves an ISR of one, below min.insync.replicas, until it has caught up.)
    deadline = time.time() + 60
    while len(isr_of(bootstrap, topic)) < len(brokers) or under_replicated(bootstrap) != 0:
        if time.time() > deadline:
            sys.exit(f"bench-cluster: broker {victim.id} did not rejoin the ISRs within 60 s")
        time.sleep(0.1)
    return result


def isr_of(bootstrap, topic):
    try:
        return AdminClient({"bootstrap.servers": bootstrap}).list_topics(topic, timeout=5).topics[topic].partitions[0].isrs
    except Exception:  # a broker still starting
        return []


def under_replicated(bootstrap):
    """How many partitions of the cluster have fewer in-sync replicas than replicas (None while unknown)."""
    try:
        topics = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=5).topics.values()
    except Exception:  # a broker still starting
        return None
    return sum(len(p.isrs) < len(p.replicas) for t in topics for p in t.partitions.values())


def delete_topic(bootstrap, name, brokers):
    """Deletes a topic and waits until every broker has removed its logs, so the next round writes into page-cache
    pages this one freed (see page_cache_write_rate)."""
    admin = AdminClient({"bootstrap.servers": bootstrap})  # kept alive until the futures complete
    for future in admin.delete_topics([name], operation_timeout=30).values():
        future.result(timeout=40)
    deadline = time.time() + 30
    while any(entry.startswith(name + "-") for b in brokers for entry in os.listdir(b.log_dir)):
        if time.time() > deadline:
            sys.exit(f"bench-cluster: the logs of {name} were not deleted within 30 s")
        time.sleep(0.05)


def page_cache_write_rate(directory, megabytes=256):
    """MB/s of writing a fresh file. This VM backs memory lazily and takes freed memory back after a while, so a
    write into memory it has not backed yet runs at a few hundred MB/s instead of several GB/s. Runs measured in
    that state are paced by the hypervisor, not the brokers; printing the figure says which state a run was in."""
    path = os.path.join(directory, "page-cache-probe")
    block = b"\0" * (1 << 20)
    began = time.time()
    with open(path, "wb") as handle:
        for _ in range(megabytes):
            handle.write(block)
    elapsed = time.time() - began
    os.unlink(path)
    return megabytes / elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ferry", required=True)
    parser.add_argument("--zk", required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--failovers", type=int, default=3)
    parser.add_argument("--latency-records", type=int, default=2000)
    args = parser.parse_args()
    print(f"bench-cluster: {args.records:,} records of 100 bytes, 1 partition, librdkafka "
          f"{__import__('confluent_kafka').libversion()[0]}; {args.rounds} rounds, {args.failovers} failovers of each kind")
    print(f"page-cache write rate before the run: {page_cache_write_rate(args.dir):,.0f} MB/s")

    # The single broker and the cluster run side by side (separate chroots) so the rounds can interleave: each
    # configuration then meets the same machine, steal and memory state. Each round's topic is deleted after it.
    run = int(time.time())  # fresh chroots per run
    os.makedirs(os.path.join(args.dir, "single"), exist_ok=True)
    os.makedirs(os.path.join(args.dir, "cluster"), exist_ok=True)
    single = Broker(args.ferry, os.path.join(args.dir, "single"), f"{args.zk}/single-{run}", 1, 29191)
    brokers = [Broker(args.ferry, os.path.join(args.dir, "cluster"), f"{args.zk}/cluster-{run}", i, 29200 + i) for i in (1, 2, 3)]
    single_bootstrap = f"127.0.0.1:{single.port}"
    bootstrap = ",".join(f"127.0.0.1:{b.port}" for b in brokers)
    figures = {"rf1": [], "acks1": [], "acks_all": []}
    for round_ in range(1, args.rounds + 1):
        for kind, target, members, replicas, acks in (("rf1", single_bootstrap, [single], 1, 1),
                                                       ("acks1", bootstrap, brokers, 3, 1),
                                                       ("acks_all", bootstrap, brokers, 3, "all")):
            topic = f"{kind}-{round_}"
            create_topic(target, topic, 1, replicas, {"min.insync.replicas": "2"} if replicas == 3 else {})
            figures[kind].append(load("produce", target, topic, args.records, 100, acks))
            delete_topic(target, topic, members)
        print(f"round {round_}: RF 1 {figures['rf1'][-1]:,.0f}, RF 3 acks=1 {figures['acks1'][-1]:,.0f}, "
              f"acks=all {figures['acks_all'][-1]:,.0f} records/s, acks=all / RF 1 {figures['acks_all'][-1] / figures['rf1'][-1]:.2f}")
    # End-to-end latency, one record at a time every 2 ms (acks=1, a consumer waiting at the log end): with RF 3 a
    # record reaches the consumer once both followers have it, so this is the replication round trip.
    latencies = {}
    for kind, target, replicas in (("rf1", single_bootstrap, 1), ("rf3", bootstrap, 3)):
        create_topic(target, f"latency-{kind}", 1, replicas, {"min.insync.replicas": "2"} if replicas == 3 else {})
        result = subprocess.run([LOAD, "latency", target, f"latency-{kind}", str(args.latency_records)], capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            sys.exit(f"bench-cluster: rdkafka_load latency failed: {result.stderr.strip()}")
        latencies[kind] = [float(value) for value in result.stdout.split()[:2]]
        print(f"end-to-end latency {kind.upper()}: p50 {latencies[kind][0]:.2f} ms, p99 {latencies[kind][1]:.2f} ms")
    single.stop()

    create_topic(bootstrap, "rf3-failover", 1, 3, {"min.insync.replicas": "2"})
    zk = KazooClient(hosts=f"{args.zk}/cluster-{run}")
    zk.start(timeout=30)
    killed = []
    for _ in range(args.failovers):
        killed.append(failover(brokers, "rf3-failover", "kill -9", zk))
        print(f"kill -9: session expired {killed[-1][0]:.2f} s after the kill, first acks=all produce "
              f"{killed[-1][1] * 1000:.0f} ms after the expiry")
    controlled = []
    for _ in range(args.failovers):
        controlled.append(failover(brokers, "rf3-failover", "controlled shutdown", zk))
        print(f"controlled shutdown: longest acks=all wait {controlled[-1] * 1000:.0f} ms")
    zk.stop()
    for broker in brokers:
        broker.stop()

    after_expiry = [ms for _, ms in killed]
    rows = [("produce RF 1, one broker (records/s, median)", statistics.median(figures["rf1"])),
            ("produce RF 3, acks=1 (records/s, median)", statistics.median(figures["acks1"])),
            ("produce RF 3, acks=all, min.insync 2 (records/s, median)", statistics.median(figures["acks_all"])),
            ("acks=all RF 3 / RF 1 (of the medians)", statistics.median(figures["acks_all"]) / statistics.median(figures["rf1"])),
            ("end-to-end latency RF 1, a record every 2 ms (ms, p50)", latencies["rf1"][0]),
            ("end-to-end latency RF 1, a record every 2 ms (ms, p99)", latencies["rf1"][1]),
            ("end-to-end latency RF 3, a record every 2 ms (ms, p50)", latencies["rf3"][0]),
            ("end-to-end latency RF 3, a record every 2 ms (ms, p99)", latencies["rf3"][1]),
            (f"kill -9: session expiry after the kill (s, median; timeout {SESSION_TIMEOUT_MS} ms)",
             statistics.median([expiry for expiry, _ in killed])),
            ("kill -9: first acks=all produce after the expiry (ms, median)", statistics.median(after_expiry) * 1000),
            ("kill -9: first acks=all produce after the expiry (ms, worst)", max(after_expiry) * 1000),
            ("controlled shutdown: longest acks=all wait, every 2 ms (ms, median)", statistics.median(controlled) * 1000),
            ("controlled shutdown: longest acks=all wait, every 2 ms (ms, worst)", max(controlled) * 1000)]
    print(f"page-cache write rate after the run: {page_cache_write_rate(args.dir):,.0f} MB/s")
    print()
    for name, value in rows:
        print(f"  {name:76} {value:14,.2f}")


if __name__ == "__main__":
    main()

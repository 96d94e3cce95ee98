#!/usr/bin/env python3
"""Consumer-group benchmark (run by scripts/bench-groups.sh): three Ferry brokers; confluent-kafka consumers.

Rebalance: the time from 10 consumers subscribing to a 100-partition topic until every partition is assigned (the
broker's group.initial.rebalance.delay.ms, Kafka's default 3 s, is part of the first join), then the time for an 11th
member to join the stable group. Commits: synchronous OffsetCommit round trips per second, of one partition and of
all 100 partitions at once (each commit is one fenced ZooKeeper multi).
"""
import argparse
import os
import threading
import time

from confluent_kafka import Consumer, TopicPartition

from bench_cluster import Broker, create_topic

PARTITIONS = 100


class Member(threading.Thread):
    def __init__(self, bootstrap, group, topic):
        super().__init__(daemon=True)
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False,
                                  "session.timeout.ms": 10000, "heartbeat.interval.ms": 500})
        self.topic, self.running, self.partitions = topic, True, set()

    def run(self):
        # The assignment is recorded by the rebalance callbacks, on this thread: the consumer is not shared.
        def assign(consumer, partitions):
            self.partitions = {p.partition for p in partitions}

        def revoke(consumer, partitions):
            self.partitions = set()
        self.consumer.subscribe([self.topic], on_assign=assign, on_revoke=revoke)
        while self.running:
            self.consumer.poll(0.05)
        self.consumer.close()

    def assigned(self):
        return self.partitions


def wait_balanced(members, started, expected_members):
    deadline = time.time() + 120
    while time.time() < deadline:
        sets = [m.assigned() for m in members]
        if sum(len(s) for s in sets) == PARTITIONS and set().union(*sets) == set(range(PARTITIONS)) \
                and sum(1 for s in sets if s) == expected_members:
            return time.monotonic() - started
        time.sleep(0.005)
    raise SystemExit("bench-groups: the group did not balance within 120 s")


def commits_per_second(bootstrap, topic, partitions, seconds=3.0):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-commit-{len(partitions)}", "enable.auto.commit": False})
    offset, count, started = 1, 0, time.monotonic()
    consumer.commit(offsets=[TopicPartition(topic, p, 0) for p in partitions], asynchronous=False)  # finds the coordinator
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        consumer.commit(offsets=[TopicPartition(topic, p, offset) for p in partitions], asynchronous=False)
        offset += 1
        count += 1
    elapsed = time.monotonic() - started
    consumer.close()
    return count / elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ferry", required=True)
    parser.add_argument("--zk", required=True)
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    print(f"bench-groups: 3 brokers, a {PARTITIONS}-partition topic, confluent-kafka (librdkafka {__import__('confluent_kafka').libversion()[0]})")
    run = int(time.time())
    os.makedirs(os.path.join(args.dir, "groups"), exist_ok=True)
    brokers = [Broker(args.ferry, os.path.join(args.dir, "groups"), f"{args.zk}/groups-{run}", i, 29300 + i) for i in (1, 2, 3)]
    bootstrap = ",".join(f"127.0.0.1:{b.port}" for b in brokers)
    try:
        create_topic(bootstrap, "rebalance", PARTITIONS, 1)
        # The offsets topic is created on the first FindCoordinator; let that happen before timing anything.
        commits_per_second(bootstrap, "rebalance", [0], seconds=0.1)

        members = [Member(bootstrap, "bench-rebalance", "rebalance") for _ in range(10)]
        started = time.monotonic()
        for member in members:
            member.start()
        first_join = wait_balanced(members, started, 10)
        newcomer = Member(bootstrap, "bench-rebalance", "rebalance")
        started = time.monotonic()
        newcomer.start()
        members.append(newcomer)
        join_stable = wait_balanced(members, started, 11)
        for member in members:
            member.running = False
        for member in members:
            member.join(timeout=20)

        one = commits_per_second(bootstrap, "rebalance", [0])
        hundred = commits_per_second(bootstrap, "rebalance", list(range(PARTITIONS)))
    finally:
        for broker in brokers:
            broker.stop()
    rows = [("10 consumers join a new group until all 100 partitions are assigned (s)", first_join),
            ("an 11th consumer joins the stable group of 10 (s)", join_stable),
            ("synchronous commits/s, 1 partition each", one),
            ("synchronous commits/s, 100 partitions each", hundred),
            ("  partition offsets committed/s at 100 per commit", hundred * PARTITIONS)]
    print("\n  (the first join includes the broker's group.initial.rebalance.delay.ms, Kafka's default 3 s)")
    for name, value in rows:
        print(f"  {name:76} {value:12,.2f}")


if __name__ == "__main__":
    main()

"""Consumer groups coordinated by the brokers (issue #8, first part): real kafka-python, confluent-kafka and aiokafka
groups against a 3-broker cluster, offsets in ZooKeeper, coordinator failover."""
import collections
import json
import pathlib
import signal
import subprocess
import sys
import threading
import time

import pytest

from conftest import await_condition
from test_replication import broker_id_of, broker_with_id


def bootstrap(cluster):
    return ",".join(f"127.0.0.1:{b.port}" for b in cluster)


def create_topic(cluster, name, partitions, replication_factor=1):
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": bootstrap(cluster)})
    admin.create_topics([NewTopic(name, partitions, replication_factor)])[name].result(timeout=20)
    await_condition(f"{name} has leaders", lambda: all(
        p.leader >= 0 for p in admin.list_topics(name, timeout=5).topics[name].partitions.values())
        and len(admin.list_topics(name, timeout=5).topics[name].partitions) == partitions)


def produce(cluster, topic, count, partitions, prefix="record"):
    """Produces `<prefix>-0` ... round-robin over the partitions; returns the values."""
    from confluent_kafka import Producer
    producer = Producer({"bootstrap.servers": bootstrap(cluster), "linger.ms": 5})
    for i in range(count):
        producer.produce(topic, value=f"{prefix}-{i}".encode(), partition=i % partitions)
    assert producer.flush(20) == 0
    return {f"{prefix}-{i}" for i in range(count)}


def java_hash(text):
    h = 0
    for unit in text.encode("utf-16-be").decode("utf-16-be"):
        h = (h * 31 + ord(unit)) & 0xFFFFFFFF
    return h - (1 << 32) if h >= (1 << 31) else h


def coordinator_id(zk_root, cluster, group):
    """The leader of the group's __consumer_offsets partition, as ZooKeeper records it."""
    chroot = cluster[0].chroot
    count = len(zk_root.get_children(f"{chroot}/brokers/topics/__consumer_offsets/partitions"))
    partition = (java_hash(group) & 0x7FFFFFFF) % count
    return json.loads(zk_root.get(f"{chroot}/brokers/topics/__consumer_offsets/partitions/{partition}/state")[0])["leader"]


def test_confluent_consumers_split_partitions_rebalance_on_leave_and_commit_to_zookeeper(cluster, zk_root):
    from confluent_kafka import Consumer
    create_topic(cluster, "split", 6)
    produce(cluster, "split", 60, 6)
    consumers = [Consumer({"bootstrap.servers": bootstrap(cluster), "group.id": "cg", "auto.offset.reset": "earliest",
                           "enable.auto.commit": False, "session.timeout.ms": 6000}) for _ in range(3)]
    for consumer in consumers:
        consumer.subscribe(["split"])
    received = {}

    def poll_all(group):
        for consumer in group:
            message = consumer.poll(0.1)
            if message is not None and message.error() is None:
                received[(message.partition(), message.offset())] = message.value()

    def split_evenly(group, share):
        poll_all(group)
        assignments = [consumer.assignment() for consumer in group]
        return all(len(a) == share for a in assignments) and len(set().union(*map(set, assignments))) == 6

    await_condition("three consumers hold two partitions each", lambda: split_evenly(consumers, 2), timeout=60)
    await_condition("every record is received", lambda: poll_all(consumers) or len(received) == 60, timeout=30)
    for consumer in consumers:
        consumer.commit(asynchronous=False)
    offsets = {p: int(zk_root.get(f"{cluster[0].chroot}/consumers/cg/offsets/split/{p}")[0]) for p in range(6)}
    assert offsets == {p: 10 for p in range(6)}

    # One consumer leaves: the other two take over its partitions.
    consumers[2].close()
    await_condition("two consumers hold three partitions each", lambda: split_evenly(consumers[:2], 3), timeout=30)

    from confluent_kafka.admin import AdminClient
    admin = AdminClient({"bootstrap.servers": bootstrap(cluster)})
    described = admin.describe_consumer_groups(["cg"])["cg"].result(timeout=15)
    assert str(described.state).endswith("STABLE") and len(described.members) == 2
    assert described.partition_assignor == "range"
    for consumer in consumers[:2]:
        consumer.close()


def test_the_seed_group_consumer_and_two_groups_each_see_every_record(cluster, zk_root, caplog):
    """Seed 003's `KafkaConsumer('test', group_id='my-group', ...)`: members of one group share the records, each
    record once; a second group sees all of them again (publish-subscribe)."""
    import logging
    from kafka import KafkaConsumer
    # One fresh-clone run saw the leader rejoin after every SyncGroup (an endless rebalance); if it recurs, the
    # client's own reason (need_rejoin) is in the captured log.
    caplog.set_level(logging.DEBUG, logger="kafka.coordinator.consumer")
    create_topic(cluster, "test", 4)
    produce(cluster, "test", 40, 4)
    members = [KafkaConsumer('test', group_id='my-group', bootstrap_servers=bootstrap(cluster).split(","),
                             auto_offset_reset='earliest', consumer_timeout_ms=1000) for _ in range(2)]
    seen = []
    deadline = time.time() + 60
    while len(seen) < 40 and time.time() < deadline:
        for consumer in members:
            for batch in consumer.poll(timeout_ms=200).values():
                for m in batch:
                    print("%s:%d:%d: key=%s value=%s" % (m.topic, m.partition, m.offset, m.key, m.value))
                    seen.append((m.partition, m.offset))
    assert len(seen) == 40 and len(set(seen)) == 40
    assert all(consumer.assignment() for consumer in members), "both members got partitions"
    for consumer in members:
        consumer.commit()
        consumer.close()

    # consumer_timeout_ms outlasts group.initial.rebalance.delay.ms (3 s by default) before the first assignment.
    other = KafkaConsumer('test', group_id='other-group', bootstrap_servers=bootstrap(cluster).split(","),
                          auto_offset_reset='earliest', consumer_timeout_ms=8000)
    assert sorted((m.partition, m.offset) for m in other) == sorted(seen)
    other.close()
    # The first group committed everything: a new member starts at the end.
    from kafka.structs import TopicPartition
    again = KafkaConsumer('test', group_id='my-group', bootstrap_servers=bootstrap(cluster).split(","),
                          auto_offset_reset='earliest')
    await_condition("the new member is assigned", lambda: again.poll(timeout_ms=200) == {} and len(again.assignment()) == 4, timeout=30)
    assert {p: again.position(TopicPartition('test', p)) for p in range(4)} == {p: 10 for p in range(4)}
    assert again.committed(TopicPartition('test', 0)) == 10
    again.close()


def test_a_standalone_consumer_commits_offsets_with_metadata_and_a_later_commit_replaces_it(cluster, zk_root):
    """kafka-python with assign() commits as a standalone consumer (generation -1): the offset lands in ZooKeeper as
    decimal text, the metadata string is read back with it, and a later commit without metadata clears it."""
    from kafka import KafkaConsumer
    from kafka.structs import OffsetAndMetadata, TopicPartition
    create_topic(cluster, "standalone", 1)
    produce(cluster, "standalone", 10, 1)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap(cluster).split(","), group_id="standalone-group", enable_auto_commit=False)
    partition = TopicPartition("standalone", 0)
    consumer.assign([partition])
    consumer.commit({partition: OffsetAndMetadata(5, "checkpoint-a", -1)})
    assert consumer.committed(partition, metadata=True)[:2] == (5, "checkpoint-a")
    assert zk_root.get(f"{cluster[0].chroot}/consumers/standalone-group/offsets/standalone/0")[0] == b"5"
    consumer.commit({partition: OffsetAndMetadata(8, "", -1)})
    assert consumer.committed(partition, metadata=True)[:2] == (8, "")
    consumer.close()


class GroupMember:
    """A group_member.py process (one consumer of one client library); its JSON events are collected as they come."""
    SCRIPT = pathlib.Path(__file__).with_name("group_member.py")

    def __init__(self, client, cluster, topic, group, commit=True):
        self.process = subprocess.Popen(
            [sys.executable, str(self.SCRIPT), client, bootstrap(cluster), topic, group] + ([] if commit else ["--no-commit"]),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.records = []
        self.assignment = []
        self.closed = False
        self.stderr = collections.deque(maxlen=50)
        threading.Thread(target=self._read_events, daemon=True).start()
        threading.Thread(target=lambda: self.stderr.extend(self.process.stderr), daemon=True).start()

    def _read_events(self):
        for line in self.process.stdout:
            event = json.loads(line)
            if "assignment" in event:
                self.assignment = event["assignment"]
            elif "value" in event:
                self.records.append(event["value"])
            elif event.get("closed"):
                self.closed = True

    def leave(self):
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(timeout=30) == 0, "".join(self.stderr)
        await_condition("the member reports its clean close", lambda: self.closed, timeout=5)

    def crash(self):
        self.process.kill()
        self.process.wait(timeout=10)


def split(members, share, partitions):
    """Every member holds `share` partitions and together they hold all of them, each once."""
    held = [p for member in members for p in member.assignment]
    return all(len(m.assignment) == share for m in members) and sorted(held) == list(range(partitions))


@pytest.mark.parametrize("client", ["kafka-python", "confluent-kafka", "aiokafka"])
def test_three_members_split_six_partitions_take_over_a_leaver_within_the_session_timeout_and_re_read_only_after_an_uncommitted_crash(
        cluster, client):
    """Issue 8's group scenario for each client library, with each member in its own process: 3 members split 6
    partitions 2/2/2; one leaves and the other two hold 3 each well within the session timeout (6 s), with no record
    delivered twice; a member that never commits joins, reads its share and is killed with -9: after its session
    expires the others take its partitions back and read again exactly what it had read. No record is ever skipped."""
    topic, group = f"members-{client}", f"group-{client}"
    create_topic(cluster, topic, 6)
    members = [GroupMember(client, cluster, topic, group) for _ in range(3)]
    try:
        await_condition("three members hold two partitions each", lambda: split(members, 2, 6), timeout=60)
        produced = produce(cluster, topic, 60, 6, prefix="first")
        seen = lambda group_members: [value for m in group_members for value in m.records]
        await_condition("the group reads the first 60 records", lambda: set(seen(members)) == produced, timeout=30)

        leaver, stayers = members[2], members[:2]
        left_at = time.monotonic()
        leaver.leave()
        await_condition("two members hold three partitions each", lambda: split(stayers, 3, 6), timeout=30)
        takeover = time.monotonic() - left_at
        print(f"{client}: the leaver's partitions were taken over in {takeover:.2f} s")
        assert takeover < 6.0, f"a clean leave took {takeover:.2f} s to be taken over (session timeout 6 s)"
        produced |= produce(cluster, topic, 60, 6, prefix="second")
        await_condition("the two read the next 60 records", lambda: set(seen(members)) == produced, timeout=30)
        assert len(seen(members)) == len(produced), "a clean leave re-delivered records"

        reader = GroupMember(client, cluster, topic, group, commit=False)
        members.append(reader)
        await_condition("the uncommitting member holds two partitions", lambda: split(stayers + [reader], 2, 6), timeout=60)
        produced |= produce(cluster, topic, 60, 6, prefix="third")
        await_condition("the three read the last 60 records", lambda: set(seen(members)) == produced, timeout=30)
        assert len(seen(members)) == len(produced), "a clean join re-delivered records"
        assert len(reader.records) == 20
        reader.crash()
        await_condition("the two take the crashed member's partitions", lambda: split(stayers, 3, 6), timeout=30)
        read_twice = lambda: [v for v, n in collections.Counter(seen(members)).items() if n > 1]
        await_condition("what the crashed member read is read again", lambda: set(read_twice()) == set(reader.records), timeout=30)
        assert set(seen(members)) == produced and max(collections.Counter(seen(members)).values()) == 2
        for member in stayers:
            member.leave()
    finally:
        for member in members:
            if member.process.poll() is None:
                member.crash()


@pytest.mark.parametrize("client", ["kafka-python", "confluent-kafka", "aiokafka"])
def test_each_clients_committed_offsets_survive_a_coordinator_kill_9(cluster, zk_root, client):
    """A member of each client library reads 20 records and leaves (committing them); the group's coordinator is
    killed with -9; a new member of the same library finds the new coordinator and reads exactly the 10 records
    produced after: nothing read again, nothing skipped."""
    topic, group = f"durable-{client}", f"durable-{client}"
    create_topic(cluster, topic, 2, replication_factor=3)
    first = produce(cluster, topic, 20, 2, prefix="before")
    reader = GroupMember(client, cluster, topic, group)
    try:
        await_condition("the first member reads 20 records", lambda: set(reader.records) == first, timeout=60)
        reader.leave()
        assert sorted(reader.records) == sorted(first)
        victim = broker_with_id(cluster, coordinator_id(zk_root, cluster, group))
        victim.kill9()
        survivors = [b for b in cluster if b is not victim]
        await_condition("another broker coordinates the group", lambda: coordinator_id(zk_root, cluster, group) in
                        [broker_id_of(b) for b in survivors], timeout=30)
        later = produce(survivors, topic, 10, 2, prefix="after")
        resumed = GroupMember(client, survivors, topic, group)
        try:
            await_condition("the new member reads the 10 later records", lambda: set(resumed.records) == later, timeout=60)
            resumed.leave()
            assert sorted(resumed.records) == sorted(later), "records before the kill were read again"
        finally:
            if resumed.process.poll() is None:
                resumed.crash()
        victim.restart()
    finally:
        if reader.process.poll() is None:
            reader.crash()

"""The kafka-python code of the seed tutorial (seeds/003) against a real broker, ported from Python 2 only as far
as Python 3 requires (print calls, bytes values). Group consumption (`group_id='my-group'`) is in
test_groups.py."""
import pathlib
import time

from kafka import KafkaConsumer, KafkaProducer
from kafka.structs import TopicPartition

from conftest import await_condition, create_topic


def bootstrap(broker):
    return [f"127.0.0.1:{broker.port}"]


def test_seed_producer_and_simple_consumers(broker, zk_root):
    create_topic(zk_root, broker, "test", 1)
    create_topic(zk_root, broker, "test0", 1)

    # 1. The producer.
    producer = KafkaProducer(bootstrap_servers=bootstrap(broker))
    for i in range(10):
        msg = "msg%d" % i
        producer.send('test', msg.encode())
    producer.send('test0', b"other topic")
    producer.close()

    # 4. A consumer reading from the earliest message.
    consumer = KafkaConsumer('test', auto_offset_reset='earliest', bootstrap_servers=bootstrap(broker), consumer_timeout_ms=5000)
    seen = ["%s:%d:%d: key=%s value=%s" % (m.topic, m.partition, m.offset, m.key, m.value) for m in consumer]
    consumer.close()
    assert seen[0] == "test:0:0: key=None value=b'msg0'" and len(seen) == 10

    # 5. Manual offsets: partitions, topics, subscription, assignment, beginning offsets, seek.
    consumer = KafkaConsumer('test', bootstrap_servers=bootstrap(broker), consumer_timeout_ms=5000)
    assert consumer.partitions_for_topic("test") == {0}
    assert {"test", "test0"} <= consumer.topics()
    assert consumer.subscription() == {"test"}
    consumer.poll(timeout_ms=2000)  # let the subscription turn into an assignment
    assert consumer.assignment() == {TopicPartition("test", 0)}
    assert consumer.beginning_offsets(consumer.assignment()) == {TopicPartition("test", 0): 0}
    consumer.seek(TopicPartition(topic=u'test', partition=0), 5)
    offsets = [m.offset for m in consumer]
    consumer.close()
    assert offsets == [5, 6, 7, 8, 9]

    # 6. Several topics; the position of a partition (the latest offset for a new consumer).
    consumer = KafkaConsumer(bootstrap_servers=bootstrap(broker), consumer_timeout_ms=3000)
    consumer.subscribe(topics=('test', 'test0'))
    consumer.poll(timeout_ms=2000)
    assert consumer.position(TopicPartition(topic=u'test', partition=0)) == 10
    consumer.close()

    # 7. Manual polling, and 8. pause and resume.
    consumer = KafkaConsumer(bootstrap_servers=bootstrap(broker), auto_offset_reset='earliest')
    consumer.subscribe(topics=('test',))
    consumer.poll(timeout_ms=2000, update_offsets=False)
    consumer.pause(TopicPartition(topic=u'test', partition=0))
    assert consumer.paused() == {TopicPartition("test", 0)}
    paused_records = sum(len(batch) for batch in consumer.poll(timeout_ms=500).values())
    consumer.resume(TopicPartition(topic=u'test', partition=0))
    received = 0
    deadline = time.time() + 10
    while received < 10 and time.time() < deadline:
        received += sum(len(batch) for batch in consumer.poll(timeout_ms=500).values())
    consumer.close()
    assert paused_records == 0 and received == 10


def test_seed_000_producer_and_consumer_against_a_three_broker_cluster(cluster, zk_root):
    """seeds/000: sync sends with .get() metadata, async sends, and a consumer given two bootstrap servers, against
    three brokers each leading some partitions of a 6-partition topic (RF 1)."""
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic
    servers = [f"127.0.0.1:{b.port}" for b in cluster]
    admin = KafkaAdminClient(bootstrap_servers=servers, request_timeout_ms=15000)
    admin.create_topics([NewTopic("test01", 6, 1)], timeout_ms=15000)
    admin.close()
    leaders = {}
    for p in range(6):
        import json
        leaders[p] = json.loads(zk_root.get(f"{cluster[0].chroot}/brokers/topics/test01/partitions/{p}/state")[0])["leader"]
    assert set(leaders.values()) == {1, 2, 3}  # Kafka's placement spreads the partitions over the brokers

    # The seed's producer, as written (two bootstrap servers; sync send then async send).
    producer = KafkaProducer(bootstrap_servers=servers[:2])
    seen = []
    for i in range(10):
        metadata = producer.send('test01', value=f'hello_java_{i}'.encode('UTF-8')).get(timeout=20)
        seen.append((metadata.topic, metadata.partition, metadata.offset))
    for i in range(10):
        producer.send('test01', value=f'hello_hive_{i}'.encode('UTF-8'))
    producer.close()
    assert all(topic == "test01" and 0 <= partition < 6 and offset >= 0 for topic, partition, offset in seen)
    # Offsets are per partition, from 0, in order.
    by_partition = {}
    for _, partition, offset in seen:
        by_partition.setdefault(partition, []).append(offset)
    assert all(offsets == list(range(len(offsets))) for offsets in by_partition.values())

    # The seed's consumer (from the earliest, so the test need not race the producer).
    consumer = KafkaConsumer('test01', bootstrap_servers=servers[:2], auto_offset_reset='earliest', consumer_timeout_ms=5000)
    values = sorted(msg.value.decode('UTF-8') for msg in consumer)
    consumer.close()
    assert values == sorted([f"hello_java_{i}" for i in range(10)] + [f"hello_hive_{i}" for i in range(10)])

    # seeds/003 calls on the multi-partition topic.
    consumer = KafkaConsumer(bootstrap_servers=servers[2:], consumer_timeout_ms=3000)
    assert consumer.partitions_for_topic("test01") == set(range(6))
    partitions = [TopicPartition("test01", p) for p in range(6)]
    assert consumer.beginning_offsets(partitions) == {tp: 0 for tp in partitions}
    assert sum(consumer.end_offsets(partitions).values()) == 20
    consumer.close()


# The seeds' shell lines, copied verbatim. Only the hosts change: each seed's ZooKeeper servers become the test
# ensemble's (the cluster's chroot appended, as the tests share one ensemble), its broker hosts the cluster's brokers.
SEED_LINES = [
    # seeds/000
    "./kafka-topics.sh --bootstrap-server node1.itcast.cn:9092,node2.itcast.cn:9092 --create --topic test02 --partitions 4 --replication-factor 2",
    "./kafka-topics.sh --bootstrap-server node1.itcast.cn:9092,node2.itcast.cn:9092 --list",
    "./kafka-topics.sh --bootstrap-server node1.itcast.cn:9092,node2.itcast.cn:9092 --describe --topic test04",
    "./kafka-console-producer.sh --broker-list node1.itcast.cn:9092,node2.itcast.cn:9092 --topic test04",
    "./kafka-console-consumer.sh --bootstrap-server node1.itcast.cn:9092,node2.itcast.cn:9092 --topic test04",
    "./kafka-topics.sh --bootstrap-server node1.itcast.cn:9092,node2.itcast.cn:9092 --alter --topic test01 --partitions 10",
    "./kafka-consumer-groups.sh --bootstrap-server node1.itcast.cn:9092,node2.itcast.cn:9092 --group g_01 --members --describe",
    # seeds/002
    "kafka-topics.sh --zookeeper bd1301:2181,bd1302:2181,bd1303:2181 --create --replication-factor 2 --partitions 3 --topic xxxxxgy",
    "kafka-topics.sh --zookeeper bd1301:2181,bd1302:2181,bd1303:2181 --list",
    "kafka-topics.sh --zookeeper bd1301:2181,bd1302:2181,bd1303:2181 --describe --topic xxxxxgy",
    "kafka-console-producer.sh --broker-list bd1301:9092,bd1302:9092,bd1303:9092 --topic xxxxxgy",
    "kafka-console-consumer.sh --zookeeper bd1301:2181,bd1302:2181,bd1303:2181 --from-beginning --topic xxxxxgy",
    # seeds/004
    "bin/kafka-topics.sh --create --zookeeper kafka1:2181 --replication-factor 1 --partitions 1 --topic test",
    "bin/kafka-topics.sh --list --zookeeper kafka1:2181",
    "bin/kafka-topics.sh --list --zookeeper kafka2:2181",
    "bin/kafka-topics.sh --list --zookeeper kafka3:2181",
    "bin/kafka-console-producer.sh --broker-list kafka1:9092 -topic test",
    "bin/kafka-console-consumer.sh --bootstrap-server kafka1:9092 --topic test",
    "bin/kafka-topics.sh --delete --zookeeper kafka1:2181 --topic test",
]


def seed_command(line, cluster, zk_connect):
    """The seed line as an argv: the script from scripts/, the seed's hosts replaced by the test cluster's."""
    import re
    import shlex
    zk_ports = [server.rsplit(":", 1)[1] for server in zk_connect.split(",")]
    chroot = cluster[0].chroot

    def zookeeper(match):
        servers = [f"127.0.0.1:{zk_ports[int(n) - 1]}" for n in re.findall(r"(?:bd130|kafka)(\d):2181", match.group(0))]
        return ",".join(servers) + chroot

    line = re.sub(r"(?:(?:bd130|kafka)\d:2181,?)+", zookeeper, line)
    line = re.sub(r"(?:bd130|kafka|node)(\d)(?:\.itcast\.cn)?:9092", lambda m: f"127.0.0.1:{cluster[int(m.group(1)) - 1].port}", line)
    argv = shlex.split(line)
    script = pathlib.Path(__file__).resolve().parents[2] / "scripts" / pathlib.Path(argv[0]).name
    return ["bash", str(script), *argv[1:]]


def test_the_seeds_command_lines_run_as_written(cluster, zk_connect, zk_root):
    import subprocess
    import threading

    def run(line, stdin=None):
        result = subprocess.run(seed_command(line, cluster, zk_connect), input=stdin, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, f"{line}\n{result.stderr}"
        return result.stdout

    def follow(line):
        """Starts a consumer line as the seed's user does in a second terminal; returns (process, printed lines)."""
        process = subprocess.Popen(seed_command(line, cluster, zk_connect), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        printed = []
        threading.Thread(target=lambda: [printed.append(l.rstrip("\n")) for l in process.stdout], daemon=True).start()
        return process, printed

    def stop(process):
        process.terminate()
        assert process.wait(timeout=30) == 0

    def type_until_printed(producer_line, printed):
        """A consumer without --from-beginning starts at the end once it has its partitions: type until it shows."""
        deadline = time.time() + 30
        while not printed and time.time() < deadline:
            run(producer_line, stdin="hello\n")
            time.sleep(0.5)
        run(producer_line, stdin="first\nsecond\n")
        await_condition("the consumer prints the lines typed", lambda: printed[-2:] == ["first", "second"])

    # What seeds/000 had before its lines: topics test01 (its Python producer's) and test04, and a group g_01 (its
    # Python consumer's, here kafka-python's).
    from kafka.admin import KafkaAdminClient, NewTopic
    servers = [f"127.0.0.1:{b.port}" for b in cluster]
    admin = KafkaAdminClient(bootstrap_servers=servers, request_timeout_ms=15000)
    admin.create_topics([NewTopic("test01", 3, 1), NewTopic("test04", 1, 1)], timeout_ms=15000)
    admin.close()
    group_member = KafkaConsumer("test04", group_id="g_01", bootstrap_servers=servers)
    await_condition("g_01 has its partition", lambda: group_member.poll(timeout_ms=200) is not None and group_member.assignment())

    lines = iter(SEED_LINES)
    # seeds/000: topics through the admin API, a producer-consumer pair, partition growth, the group's members.
    assert run(next(lines)) == "Created topic test02.\n"
    assert {"test01", "test02", "test04"} <= set(run(next(lines)).split())
    assert run(next(lines)).startswith("Topic: test04\t")
    producer_line, consumer_line = next(lines), next(lines)
    consumer, printed = follow(consumer_line)
    type_until_printed(producer_line, printed)
    stop(consumer)
    assert run(next(lines)) == ""
    import json
    assert len(json.loads(zk_root.get(f"{cluster[0].chroot}/brokers/topics/test01")[0])["partitions"]) == 10
    members = run(next(lines)).splitlines()
    group_member.close()
    assert members[1].split() == ["GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS"]
    assert len(members) == 3 and members[2].split()[0] == "g_01" and members[2].split()[-1] == "1"
    # seeds/002: create, list, describe; type lines into the producer; the old consumer reads from the beginning.
    assert run(next(lines)) == "Created topic xxxxxgy.\n"
    assert {"test02", "xxxxxgy"} <= set(run(next(lines)).split())
    described = run(next(lines)).splitlines()
    assert described[0].startswith("Topic: xxxxxgy\t") and "PartitionCount: 3\tReplicationFactor: 2" in described[0]
    assert len(described) == 4 and all("Leader: " in partition for partition in described[1:])
    typed = [f"message {i}" for i in range(12)]
    assert run(next(lines), stdin="\n".join(typed) + "\n") == ""
    consumer, printed = follow(next(lines))
    await_condition("the old console consumer prints every line typed", lambda: sorted(printed) == sorted(typed))
    stop(consumer)
    # seeds/004: a one-partition topic, listed through each ZooKeeper server; a consumer waiting for new lines, then
    # the producer; finally the delete.
    assert run(next(lines)) == "Created topic test.\n"
    for _ in range(3):
        assert {"test", "test02", "xxxxxgy"} <= set(run(next(lines)).split())
    producer_line, consumer_line = next(lines), next(lines)
    consumer, printed = follow(consumer_line)
    type_until_printed(producer_line, printed)
    stop(consumer)
    assert "marked for deletion" in run(next(lines))
    await_condition("topic test is deleted", lambda: not zk_root.exists(f"{cluster[0].chroot}/brokers/topics/test"))

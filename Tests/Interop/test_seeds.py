"""The kafka-python code of the seed tutorial (seeds/003) against a real broker, ported from Python 2 only as far
as Python 3 requires (print calls, bytes values). Group consumption (`group_id='my-group'`) is in
test_groups.py."""
import time

from kafka import KafkaConsumer, KafkaProducer
from kafka.structs import TopicPartition

from conftest import create_topic


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

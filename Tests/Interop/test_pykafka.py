"""pykafka 2.8 against a real `ferry server`: brokers found through ZooKeeper, the old protocol versions it speaks
(Metadata v0, Produce v0 with magic-0 message sets, Fetch v1 down-converted, ListOffsets v0) (issue #5)."""
import pytest

from conftest import create_topic


@pytest.fixture
def pykafka_client(broker, zk_connect):
    from pykafka import KafkaClient
    # Brokers come from /brokers/ids under the broker's chroot, as pykafka users point it at their ensemble.
    return KafkaClient(zookeeper_hosts=f"{zk_connect}{broker.chroot}")


def consume_all(topic, expected_count, **options):
    from pykafka.common import OffsetType
    consumer = topic.get_simple_consumer(auto_offset_reset=OffsetType.EARLIEST, consumer_timeout_ms=3000, **options)
    messages = []
    for message in consumer:
        messages.append(message)
        if len(messages) == expected_count:
            break
    consumer.stop()
    return messages


@pytest.mark.parametrize("codec", ["NONE", "GZIP", "SNAPPY", "LZ4"])
def test_pykafka_produces_and_consumes_through_brokers_found_in_zookeeper(broker, zk_root, pykafka_client, codec):
    from pykafka.common import CompressionType
    name = f"py-{codec.lower()}"
    create_topic(zk_root, broker, name, 2)
    topic = pykafka_client.topics[name]
    assert sorted(topic.partitions) == [0, 1]
    assert [b.id for b in pykafka_client.brokers.values()] == [1]
    with topic.get_sync_producer(compression=getattr(CompressionType, codec)) as producer:
        for i in range(20):
            producer.produce(f"message {i}".encode(), partition_key=str(i).encode())
    messages = consume_all(topic, 20)
    assert sorted(m.value for m in messages) == sorted(f"message {i}".encode() for i in range(20))
    for partition in (0, 1):
        offsets = [m.offset for m in messages if m.partition_id == partition]
        assert offsets == list(range(len(offsets)))
    # ListOffsets v0: earliest is 0, latest is the count in each partition.
    latest = topic.latest_available_offsets()
    earliest = topic.earliest_available_offsets()
    assert sum(latest[p].offset[0] for p in (0, 1)) == 20
    assert all(earliest[p].offset[0] == 0 for p in (0, 1))

    # What pykafka wrote (magic 0, converted to v2 batches) reads back with a modern client.
    from kafka import KafkaConsumer, TopicPartition
    consumer = KafkaConsumer(bootstrap_servers=f"127.0.0.1:{broker.port}", consumer_timeout_ms=3000, auto_offset_reset="earliest")
    consumer.assign([TopicPartition(name, 0), TopicPartition(name, 1)])
    assert len(list(consumer)) == 20
    consumer.close()


@pytest.mark.parametrize("codec", ["none", "gzip", "snappy", "lz4"])
def test_pykafka_reads_what_modern_clients_wrote_down_converted(broker, zk_root, pykafka_client, codec):
    from confluent_kafka import Producer
    name = f"modern-{codec}"
    create_topic(zk_root, broker, name, 1)
    producer = Producer({"bootstrap.servers": f"127.0.0.1:{broker.port}", "compression.type": codec, "linger.ms": 5})
    for i in range(50):
        producer.produce(name, key=f"k{i}".encode(), value=f"v{i}".encode(), partition=0)
    assert producer.flush(15) == 0
    messages = consume_all(pykafka_client.topics[name], 50)
    assert [(m.offset, m.partition_key, m.value) for m in messages] == [
        (i, f"k{i}".encode(), f"v{i}".encode()) for i in range(50)]

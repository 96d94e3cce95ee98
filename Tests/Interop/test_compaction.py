"""Log compaction (`cleanup.policy=compact`) against a real `ferry server` and real clients."""
from conftest import BrokerProcess, await_condition, await_logged


def read_all(port, topic):
    """Every record of partition 0 from the start, with kafka-python, as (offset, key, value)."""
    from kafka import KafkaConsumer, TopicPartition
    consumer = KafkaConsumer(bootstrap_servers=f"127.0.0.1:{port}", enable_auto_commit=False, consumer_timeout_ms=3000)
    partition = TopicPartition(topic, 0)
    consumer.assign([partition])
    consumer.seek_to_beginning(partition)
    end = consumer.end_offsets([partition])[partition]
    records = []
    while consumer.position(partition) < end:
        batch = consumer.poll(timeout_ms=2000)
        if not batch:
            break
        records.extend((r.offset, r.key, r.value) for r in batch.get(partition, []))
    consumer.close()
    return records, end


def test_a_compacted_topic_keeps_the_latest_value_of_each_key_and_drops_tombstones(ferry_bin, zk_connect, tmp_path):
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic
    broker = BrokerProcess(ferry_bin, zk_connect, tmp_path, extra="log.cleaner.backoff.ms=200\n").wait_serving()
    try:
        admin = AdminClient({"bootstrap.servers": f"127.0.0.1:{broker.port}"})
        admin.create_topics([NewTopic("changelog", 1, 1, config={
            "cleanup.policy": "compact", "segment.bytes": "2048", "min.cleanable.dirty.ratio": "0.01",
            "delete.retention.ms": "2000"})])["changelog"].result(timeout=20)
        producer = Producer({"bootstrap.servers": f"127.0.0.1:{broker.port}", "linger.ms": 0, "batch.num.messages": 1})
        latest = {}
        for i in range(400):
            key = f"k{i % 8}".encode()
            value = None if (i == 200 and key == b"k0") else f"v{i}".encode()
            producer.produce("changelog", key=key, value=value, partition=0)
            latest[key] = value
            producer.poll(0)
        for i in range(400, 440):  # more segments after the tombstone, so it reaches the cleanable range
            producer.produce("changelog", key=b"filler", value=f"f{i}".encode(), partition=0)
        latest[b"filler"] = b"f439"
        assert producer.flush(15) == 0
        # k0's tombstone at 200 is followed by k0 values again; write one last tombstone for k7.
        producer.produce("changelog", key=b"k7", value=None, partition=0)
        for i in range(441, 480):
            producer.produce("changelog", key=b"filler", value=f"f{i}".encode(), partition=0)
        assert producer.flush(15) == 0
        latest[b"k7"] = None
        latest[b"filler"] = b"f479"

        def compacted():
            found, _ = read_all(broker.port, "changelog")
            return len(found) < 480 / 4
        await_condition("the cleaner compacts the log", compacted, timeout=40)
        await_logged(broker, "cleaned log up to offset")
        records, end = read_all(broker.port, "changelog")
        assert end == 480
        offsets = [offset for offset, _, _ in records]
        assert offsets == sorted(set(offsets)), records
        # Nothing that is the latest value of its key was lost; every key's last record read is its latest value.
        last = {}
        for _, key, value in records:
            last[key] = value
        for key, value in latest.items():
            if value is None:
                assert last.get(key) is None
            else:
                assert last.get(key) == value, (key, records)

        # Once delete.retention.ms has passed, k7's tombstone goes too (k7 was never written again).
        def tombstone_gone():
            found, _ = read_all(broker.port, "changelog")
            return all(key != b"k7" for _, key, _ in found)
        await_condition("the tombstone is removed", tombstone_gone, timeout=30)
        records, _ = read_all(broker.port, "changelog")
        assert {key for _, key, _ in records} >= {b"k1", b"k2", b"k3", b"k4", b"k5", b"k6", b"filler"}

        # A record without a key is refused, as Kafka refuses it (INVALID_RECORD), and nothing is appended.
        from confluent_kafka import KafkaError
        errors = []
        keyless = Producer({"bootstrap.servers": f"127.0.0.1:{broker.port}", "retries": 0})
        keyless.produce("changelog", value=b"no key", partition=0, on_delivery=lambda error, _: errors.append(error))
        keyless.flush(15)
        assert len(errors) == 1 and errors[0] is not None and errors[0].code() == KafkaError.INVALID_RECORD, errors
        from kafka import KafkaProducer
        from kafka.errors import InvalidRecordError
        python_producer = KafkaProducer(bootstrap_servers=f"127.0.0.1:{broker.port}", retries=0)
        try:
            python_producer.send("changelog", value=b"no key", partition=0).get(timeout=15)
            raise AssertionError("a keyless record was accepted")
        except InvalidRecordError:
            pass
        python_producer.close()
        assert read_all(broker.port, "changelog")[1] == 480

        # The cleaned log survives a restart, and appends continue at the log end.
        broker.kill9()
        broker.restart()
        again, end = read_all(broker.port, "changelog")
        assert end == 480 and [o for o, _, _ in again] == [o for o, _, _ in records]
    finally:
        broker.stop()

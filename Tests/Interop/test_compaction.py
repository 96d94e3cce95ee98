"""Log compaction (`cleanup.policy=compact`) against a real `ferry server` and real clients."""
import time

from conftest import BrokerProcess, await_condition, await_logged
from test_tools import tool


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


def broker_with_compacted_topic(ferry_bin, zk_connect, tmp_path, topic, **config):
    """A broker whose cleaner looks every 200 ms, and on it a one-partition topic compacted as soon as 1 % of it is
    new, in 2 kB segments (`config` adds or replaces topic configs, `_` for `.` in their names)."""
    from confluent_kafka.admin import AdminClient, NewTopic
    broker = BrokerProcess(ferry_bin, zk_connect, tmp_path, extra="log.cleaner.backoff.ms=200\n").wait_serving()
    settings = {"cleanup.policy": "compact", "segment.bytes": "2048", "min.cleanable.dirty.ratio": "0.01"}
    settings.update({name.replace("_", "."): value for name, value in config.items()})
    try:
        admin = AdminClient({"bootstrap.servers": f"127.0.0.1:{broker.port}"})
        admin.create_topics([NewTopic(topic, 1, 1, config=settings)])[topic].result(timeout=20)
    except BaseException:
        broker.stop()
        raise
    return broker


def test_a_compacted_topic_keeps_the_latest_value_of_each_key_and_drops_tombstones(ferry_bin, zk_connect, tmp_path):
    from confluent_kafka import Producer
    broker = broker_with_compacted_topic(ferry_bin, zk_connect, tmp_path, "changelog", delete_retention_ms="2000")
    try:
        # An idempotent producer writes every key first, in one batch, and stops: all of it is superseded below, and
        # the cleaner keeps that batch empty, as the producer's last, so its sequence survives (Kafka's RETAIN_EMPTY).
        early = Producer({"bootstrap.servers": f"127.0.0.1:{broker.port}", "enable.idempotence": True, "linger.ms": 100})
        for k in range(8):
            early.produce("changelog", key=f"k{k}".encode(), value=b"early", partition=0)
        assert early.flush(15) == 0
        del early
        first = 8
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
            return len(found) < (first + 480) / 4
        await_condition("the cleaner compacts the log", compacted, timeout=40)
        await_logged(broker, "cleaned log up to offset")
        records, end = read_all(broker.port, "changelog")
        assert end == first + 480
        assert all(value != b"early" for _, _, value in records)
        segments = sorted((broker.log_dir / "changelog-0").glob("*.log"))
        code, out, err = tool("kafka-dump-log.sh", "--files", str(segments[0]))
        assert code == 0, err
        emptied = [line for line in out.splitlines() if line.startswith("baseOffset: 0 lastOffset: 7 count: 0 ")]
        assert len(emptied) == 1 and "producerId: -1 " not in emptied[0] and "lastSequence: 7 " in emptied[0], out
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
        assert read_all(broker.port, "changelog")[1] == first + 480

        # The cleaned log survives a restart, and appends continue at the log end.
        broker.kill9()
        broker.restart()
        again, end = read_all(broker.port, "changelog")
        assert end == first + 480 and [o for o, _, _ in again] == [o for o, _, _ in records]
    finally:
        broker.stop()


def test_min_compaction_lag_holds_records_back_until_the_topic_config_lowers_it(ferry_bin, zk_connect, tmp_path):
    from confluent_kafka import Producer
    broker = broker_with_compacted_topic(ferry_bin, zk_connect, tmp_path, "lagging", min_compaction_lag_ms="3600000")
    try:
        producer = Producer({"bootstrap.servers": f"127.0.0.1:{broker.port}", "linger.ms": 0, "batch.num.messages": 1})
        for i in range(200):
            producer.produce("lagging", key=f"k{i % 4}".encode(), value=f"v{i}".encode(), partition=0)
            producer.poll(0)
        assert producer.flush(15) == 0
        # The cleaner works below the checkpointed high watermark: once that covers every record, it could clean
        # all but the active segment, but every record is younger than an hour.
        checkpoint = broker.log_dir / "replication-offset-checkpoint"
        await_condition("the high watermark is checkpointed",
                        lambda: "lagging 0 200" in checkpoint.read_text().splitlines())
        time.sleep(1)  # five cleaner passes that must leave everything (nothing to await: the log must stay)
        records, end = read_all(broker.port, "lagging")
        assert end == 200 and len(records) == 200

        code, out, err = tool("kafka-configs.sh", "--bootstrap-server", f"127.0.0.1:{broker.port}", "--entity-type", "topics",
                              "--entity-name", "lagging", "--describe")
        assert code == 0 and "min.compaction.lag.ms=3600000" in out, (out, err)
        code, out, err = tool("kafka-configs.sh", "--bootstrap-server", f"127.0.0.1:{broker.port}", "--alter", "--entity-type",
                              "topics", "--entity-name", "lagging", "--add-config", "min.compaction.lag.ms=0")
        assert code == 0, err
        await_condition("the cleaner compacts the log once the lag is lowered",
                        lambda: len(read_all(broker.port, "lagging")[0]) < 100, timeout=30)
        records, end = read_all(broker.port, "lagging")
        assert end == 200
        last = {key: value for _, key, value in records}
        assert last == {f"k{k}".encode(): f"v{196 + k}".encode() for k in range(4)}
    finally:
        broker.stop()

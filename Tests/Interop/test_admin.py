"""Topic administration against a real `ferry server`: deletion, added partitions, configs (issue #5)."""
import json
import time

import pytest

from conftest import BrokerProcess, create_topic


def await_condition(description, condition, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting until {description}")


def produce(port, topic, partition, values):
    from confluent_kafka import Producer
    producer = Producer({"bootstrap.servers": f"127.0.0.1:{port}"})
    for value in values:
        producer.produce(topic, value=value, partition=partition)
    assert producer.flush(15) == 0


def test_deleted_topics_leave_zookeeper_and_the_disk_and_can_be_created_again(broker, zk_root):
    from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
    from kafka.admin import NewTopic
    from kafka.errors import UnknownTopicOrPartitionError
    admin = KafkaAdminClient(bootstrap_servers=f"127.0.0.1:{broker.port}", request_timeout_ms=15000)
    admin.create_topics([NewTopic("doomed", 2, 1, topic_configs={"retention.ms": "3600000"})], timeout_ms=10000)
    produce(broker.port, "doomed", 0, [b"a", b"b"])
    produce(broker.port, "doomed", 1, [b"c"])
    assert (broker.log_dir / "doomed-0").is_dir() and (broker.log_dir / "doomed-1").is_dir()

    admin.delete_topics(["doomed"], timeout_ms=15000)
    for path in ("/brokers/topics/doomed", "/config/topics/doomed", "/admin/delete_topics/doomed"):
        assert not zk_root.exists(broker.chroot + path), path
    await_condition("the replicas' log directories are gone", lambda: not any(
        p.name.startswith("doomed-") for p in broker.log_dir.iterdir()))
    assert "doomed" not in admin.list_topics()
    with pytest.raises(UnknownTopicOrPartitionError):
        admin.delete_topics(["doomed"], timeout_ms=15000)

    # The same name again is a new, empty topic.
    admin.create_topics([NewTopic("doomed", 1, 1)], timeout_ms=10000)
    produce(broker.port, "doomed", 0, [b"fresh"])
    consumer = KafkaConsumer(bootstrap_servers=f"127.0.0.1:{broker.port}", consumer_timeout_ms=5000, auto_offset_reset="earliest")
    consumer.assign([TopicPartition("doomed", 0)])
    assert [(r.offset, r.value) for r in consumer] == [(0, b"fresh")]
    consumer.close()
    admin.close()

    # confluent-kafka's admin client, and a topic marked the way `kafka-topics.sh --zookeeper --delete` marks it.
    from confluent_kafka.admin import AdminClient
    create_topic(zk_root, broker, "rdk-doomed", 1)
    create_topic(zk_root, broker, "zk-doomed", 1)
    rdk_admin = AdminClient({"bootstrap.servers": f"127.0.0.1:{broker.port}"})
    rdk_admin.delete_topics(["rdk-doomed"], operation_timeout=15)["rdk-doomed"].result(timeout=20)
    assert not zk_root.exists(f"{broker.chroot}/brokers/topics/rdk-doomed")
    zk_root.create(f"{broker.chroot}/admin/delete_topics/zk-doomed")
    await_condition("the marked topic is deleted", lambda: not zk_root.exists(f"{broker.chroot}/brokers/topics/zk-doomed"))


def test_with_deletion_disabled_delete_topics_is_refused(ferry_bin, zk_connect, tmp_path, zk_root):
    from kafka import KafkaAdminClient
    from kafka.errors import TopicDeletionDisabledError
    broker = BrokerProcess(ferry_bin, zk_connect, tmp_path, extra="delete.topic.enable=false\n").wait_serving()
    try:
        create_topic(zk_root, broker, "kept", 1)
        admin = KafkaAdminClient(bootstrap_servers=f"127.0.0.1:{broker.port}", request_timeout_ms=15000)
        with pytest.raises(TopicDeletionDisabledError):
            admin.delete_topics(["kept"], timeout_ms=5000)
        admin.close()
        assert zk_root.exists(f"{broker.chroot}/brokers/topics/kept")
    finally:
        broker.stop()


def test_create_partitions_grows_a_topic_and_the_new_partitions_serve(broker, zk_root):
    from kafka import KafkaAdminClient
    from kafka.admin import NewPartitions
    from kafka.errors import InvalidPartitionsError
    create_topic(zk_root, broker, "grows", 1)
    before = json.loads(zk_root.get(f"{broker.chroot}/brokers/topics/grows")[0])
    admin = KafkaAdminClient(bootstrap_servers=f"127.0.0.1:{broker.port}", request_timeout_ms=15000)
    admin.create_partitions({"grows": NewPartitions(3)}, timeout_ms=10000)
    after = json.loads(zk_root.get(f"{broker.chroot}/brokers/topics/grows")[0])
    assert after["partitions"] == {"0": [1], "1": [1], "2": [1]}
    assert after.get("topic_id") == before.get("topic_id")
    for p in range(3):
        assert json.loads(zk_root.get(f"{broker.chroot}/brokers/topics/grows/partitions/{p}/state")[0])["leader"] == 1
    with pytest.raises(InvalidPartitionsError):
        admin.create_partitions({"grows": NewPartitions(2)}, timeout_ms=10000)
    admin.close()
    produce(broker.port, "grows", 2, [b"in the new partition"])

    from confluent_kafka.admin import AdminClient, NewPartitions as RdkNewPartitions
    rdk_admin = AdminClient({"bootstrap.servers": f"127.0.0.1:{broker.port}"})
    rdk_admin.create_partitions([RdkNewPartitions("grows", 4)])["grows"].result(timeout=20)
    assert len(json.loads(zk_root.get(f"{broker.chroot}/brokers/topics/grows")[0])["partitions"]) == 4

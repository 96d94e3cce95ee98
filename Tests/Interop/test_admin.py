"""Topic administration against a real `ferry server`: deletion, added partitions, configs (issue #5)."""
import json

import pytest

from conftest import BrokerProcess, await_condition, create_topic


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


def test_topic_configs_are_described_altered_and_applied(broker, zk_root):
    from kafka import KafkaAdminClient
    from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
    from kafka.errors import InvalidConfigurationError
    admin = KafkaAdminClient(bootstrap_servers=f"127.0.0.1:{broker.port}", request_timeout_ms=15000)
    admin.create_topics([NewTopic("tuned", 1, 1, topic_configs={"retention.ms": "3600000"})], timeout_ms=10000)
    with pytest.raises(InvalidConfigurationError):
        admin.create_topics([NewTopic("mistuned", 1, 1, topic_configs={"retention.ms": "soon"})], timeout_ms=10000)
    assert not zk_root.exists(f"{broker.chroot}/brokers/topics/mistuned")

    described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "tuned")], config_filter="all")
    configs = described["topic"]["tuned"]
    assert len(configs) == 31
    assert configs["retention.ms"]["value"] == "3600000" and configs["retention.ms"]["config_source"] == "DYNAMIC_TOPIC_CONFIG"
    assert configs["segment.bytes"]["value"] == "1073741824" and configs["segment.bytes"]["config_source"] == "DEFAULT_CONFIG"
    assert configs["cleanup.policy"]["value"] == "delete" and not configs["cleanup.policy"]["read_only"]
    assert admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "tuned")])["topic"]["tuned"].keys() == {"retention.ms"}

    # Incremental alter (kafka-python uses IncrementalAlterConfigs when advertised): written as Kafka writes it.
    result = admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, "tuned", configs={
        "segment.bytes": "1024", "max.message.bytes": "600", "retention.ms": ("DELETE", None)})])
    assert result["topic"]["tuned"] == "OK", result
    stored = json.loads(zk_root.get(f"{broker.chroot}/config/topics/tuned")[0])
    assert stored == {"version": 1, "config": {"segment.bytes": "1024", "max.message.bytes": "600"}}
    changes = sorted(zk_root.get_children(f"{broker.chroot}/config/changes"))
    assert changes and json.loads(zk_root.get(f"{broker.chroot}/config/changes/{changes[-1]}")[0]) == {
        "version": 2, "entity_path": "topics/tuned"}
    bad = admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, "tuned", configs={"segment.bytes": "-5"})])
    assert "InvalidConfigurationError" in str(bad["topic"]["tuned"])
    admin.close()

    # The broker applies them: max.message.bytes refuses a big batch, segment.bytes rolls small segments.
    from confluent_kafka import KafkaException, Producer
    def sent(value):
        outcome = []
        producer = Producer({"bootstrap.servers": f"127.0.0.1:{broker.port}", "linger.ms": 0, "message.max.bytes": 100000})
        producer.produce("tuned", value=value, partition=0, on_delivery=lambda err, msg: outcome.append(err))
        producer.flush(15)
        return outcome[0]
    await_condition("the new max.message.bytes is applied", lambda: sent(b"x" * 2000) is not None)
    assert sent(b"x" * 2000).name() == "MSG_SIZE_TOO_LARGE"
    for _ in range(12):
        assert sent(b"y" * 300) is None
    assert len(list((broker.log_dir / "tuned-0").glob("*.log"))) >= 4

    # confluent-kafka's describe (v1 with synonyms) and legacy alter.
    from confluent_kafka.admin import AdminClient, ConfigResource as RdkResource
    rdk_admin = AdminClient({"bootstrap.servers": f"127.0.0.1:{broker.port}"})
    entries = rdk_admin.describe_configs([RdkResource("topic", "tuned")])
    config = list(entries.values())[0].result(timeout=15)
    assert config["segment.bytes"].value == "1024" and config["segment.bytes"].source == 1
    assert config["retention.bytes"].is_default
    futures = rdk_admin.alter_configs([RdkResource("topic", "tuned", set_config={"retention.ms": "7200000"})])
    list(futures.values())[0].result(timeout=15)
    assert json.loads(zk_root.get(f"{broker.chroot}/config/topics/tuned")[0])["config"] == {"retention.ms": "7200000"}
    broker_config = list(rdk_admin.describe_configs([RdkResource("broker", "1")]).values())[0].result(timeout=15)
    assert broker_config["broker.id"].value == "1" and broker_config["broker.id"].is_read_only

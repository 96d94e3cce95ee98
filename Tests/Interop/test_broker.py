"""A real `ferry server` process against the test ensemble, driven by real clients (issue #5, first part)."""
import json
import os
import signal
import socket
import struct
import subprocess
import time
import uuid

import pytest
from kazoo.client import KazooClient

from conftest import BrokerProcess, await_condition, create_topic, run


def test_registers_kafkas_znodes_and_clients_see_the_broker(broker, zk_root):
    data, stat = zk_root.get(f"{broker.chroot}/brokers/ids/1")
    registration = json.loads(data)
    assert registration["version"] == 5 and registration["port"] == broker.port and registration["host"] == "127.0.0.1"
    assert registration["endpoints"] == [f"PLAINTEXT://127.0.0.1:{broker.port}"]
    assert stat.ephemeralOwner != 0
    cluster = json.loads(zk_root.get(f"{broker.chroot}/cluster/id")[0])
    assert cluster["version"] == "1" and len(cluster["id"]) == 22
    for path in ["/brokers/topics", "/admin/delete_topics", "/config/topics", "/consumers", "/isr_change_notification"]:
        assert zk_root.exists(broker.chroot + path), path

    listing = run("kcat", "-b", f"127.0.0.1:{broker.port}", "-L", "-m", "10").stdout
    assert f"broker 1 at 127.0.0.1:{broker.port}" in listing

    from kafka import KafkaAdminClient
    admin = KafkaAdminClient(bootstrap_servers=f"127.0.0.1:{broker.port}", request_timeout_ms=10000)
    cluster_info = admin.describe_cluster()
    admin.close()
    assert cluster_info["cluster_id"] == cluster["id"]
    assert [b["broker_id"] for b in cluster_info["brokers"]] == [1]

    from confluent_kafka.admin import AdminClient
    metadata = AdminClient({"bootstrap.servers": f"127.0.0.1:{broker.port}"}).list_topics(timeout=10)
    assert list(metadata.brokers) == [1] and metadata.cluster_id == cluster["id"]


def test_the_broker_is_controller_and_leads_a_topic_written_as_kafka_topics_zookeeper_does(broker, zk_root):
    base = broker.chroot
    # What `kafka-topics.sh --zookeeper ... --create` writes: the assignment only.
    zk_root.create(f"{base}/brokers/topics/orders",
                   b'{"version":3,"partitions":{"0":[1],"1":[1]},"adding_replicas":{},"removing_replicas":{}}', makepath=True)
    from confluent_kafka.admin import AdminClient
    admin = AdminClient({"bootstrap.servers": f"127.0.0.1:{broker.port}"})
    deadline = time.time() + 15
    metadata = None
    while time.time() < deadline:
        metadata = admin.list_topics(timeout=5)
        topic = metadata.topics.get("orders")
        if topic is not None and set(topic.partitions) == {0, 1} and all(p.leader == 1 for p in topic.partitions.values()):
            break
        time.sleep(0.1)
    topic = metadata.topics["orders"]
    assert {p: topic.partitions[p].leader for p in topic.partitions} == {0: 1, 1: 1}
    assert topic.partitions[0].isrs == [1] and topic.partitions[0].replicas == [1]
    assert metadata.controller_id == 1
    controller = json.loads(zk_root.get(f"{base}/controller")[0])
    assert controller["brokerid"] == 1 and controller["version"] == 2
    assert zk_root.get(f"{base}/controller_epoch")[0] == b"1"
    state = json.loads(zk_root.get(f"{base}/brokers/topics/orders/partitions/1/state")[0])
    assert state == {"controller_epoch": 1, "leader": 1, "version": 1, "leader_epoch": 0, "isr": [1]}


def test_sigterm_deregisters_and_shuts_the_logs_down_cleanly(ferry_bin, zk_connect, tmp_path, zk_root):
    process = BrokerProcess(ferry_bin, zk_connect, tmp_path, broker_id=4).wait_serving()
    assert zk_root.exists(f"{process.chroot}/brokers/ids/4")
    assert process.stop() == 0
    assert zk_root.exists(f"{process.chroot}/brokers/ids/4") is None
    assert (process.log_dir / ".kafka_cleanshutdown").exists()
    assert "broker.id=4" in (process.log_dir / "meta.properties").read_text()


def test_sigterm_answers_a_waiting_fetch_before_closing(ferry_bin, zk_connect, tmp_path, zk_root):
    process = BrokerProcess(ferry_bin, zk_connect, tmp_path).wait_serving()
    create_topic(zk_root, process, "quiet", 1)
    topic = b"quiet"
    # Fetch v4 for an empty partition with a 30 s long poll: only the shutdown can end it early.
    body = struct.pack(">iiiib", -1, 30_000, 1, 1 << 20, 0) + struct.pack(">ih", 1, len(topic)) + topic
    body += struct.pack(">iiqi", 1, 0, 0, 1 << 20)
    request = struct.pack(">hhih", 1, 4, 42, -1) + body
    with socket.create_connection(("127.0.0.1", process.port), timeout=20) as sock:
        sock.sendall(struct.pack(">i", len(request)) + request)
        sock.settimeout(0.5)
        with pytest.raises(socket.timeout):  # the fetch is parked, waiting for data
            sock.recv(4)
        sock.settimeout(20)
        started = time.time()
        process.process.send_signal(signal.SIGTERM)
        size = struct.unpack(">i", sock.recv(4, socket.MSG_WAITALL))[0]
        reply = sock.recv(size, socket.MSG_WAITALL)
        assert struct.unpack(">i", reply[:4])[0] == 42 and len(reply) == size
        assert sock.recv(1) == b""  # then the broker closes the connection
    assert process.process.wait(timeout=20) == 0
    assert time.time() - started < 10
    assert "stopped serving requests" in process.output.read_text()


def test_a_held_broker_id_and_a_bad_config_exit_1_with_one_line(ferry_bin, zk_connect, tmp_path, broker):
    second = BrokerProcess(ferry_bin, zk_connect, tmp_path, broker_id=1, chroot=broker.chroot)
    assert second.process.wait(timeout=20) == 1
    lines = [line for line in second.output.read_text().splitlines() if line.startswith("ferry server:")]
    assert len(lines) == 1 and "broker.id 1 is already registered in ZooKeeper by a live broker" in lines[0]

    bad = tmp_path / "bad.properties"
    bad.write_text(f"broker.id=abc\nzookeeper.connect={zk_connect}\n")
    result = run(ferry_bin, "server", bad, check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == "ferry server: Invalid value 'abc' for configuration broker.id: an integer from -1 to 2147483647"


def raw_request(port, payload, read=True):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(payload)
        if not read:
            return None
        try:
            header = sock.recv(4)
        except ConnectionResetError:
            return b""
        if len(header) < 4:
            return b""
        size = struct.unpack(">i", header)[0]
        body = b""
        while len(body) < size:
            body += sock.recv(size - len(body))
        return body


def test_bad_input_closes_only_that_connection(broker):
    garbage = raw_request(broker.port, b"\x00\x00\x00\x08" + os.urandom(8))
    huge = raw_request(broker.port, struct.pack(">i", 2_000_000_000) + b"\x00" * 16)
    unknown_api = raw_request(broker.port, struct.pack(">ihhi", 8, 9999, 0, 1) + b"\xff\xff")
    assert garbage == b"" and huge == b"" and unknown_api == b""
    # KIP-511: an ApiVersions version the broker does not know gets UNSUPPORTED_VERSION in a v0 body.
    # (A flexible request header: client id as a plain nullable string, then an empty tagged-field section.)
    reply = raw_request(broker.port, struct.pack(">ihhihb", 11, 18, 9, 7, -1, 0))
    correlation, error_code, count = struct.unpack(">ihi", reply[:10])
    assert (correlation, error_code) == (7, 35) and count >= 2
    # And the broker still serves everyone else.
    assert f"broker 1 at 127.0.0.1:{broker.port}" in run("kcat", "-b", f"127.0.0.1:{broker.port}", "-L").stdout
    assert broker.process.poll() is None


def test_confluent_kafka_produces_with_every_codec_and_acks_and_reads_it_back(broker, zk_root):
    from confluent_kafka import Consumer, Producer, TopicPartition
    create_topic(zk_root, broker, "rdk", 2)
    sent = []
    watermarks = Consumer({"bootstrap.servers": f"127.0.0.1:{broker.port}", "group.id": "unused"})
    for codec in ["none", "gzip", "snappy", "lz4", "zstd"]:
        for acks in ["0", "1", "all"]:
            producer = Producer({"bootstrap.servers": f"127.0.0.1:{broker.port}", "compression.codec": codec,
                                 "acks": acks, "linger.ms": 5})
            delivered = []
            for i in range(20):
                value = f"{codec}-{acks}-{i}".encode() * 3
                producer.produce("rdk", value=value, key=b"k", partition=0,
                                 on_delivery=lambda err, msg: delivered.append(err))
                sent.append(value)
            assert producer.flush(15) == 0
            assert delivered == [None] * 20, (codec, acks, delivered)
            if acks == "0":
                # acks=0 is done once written to the socket, not once stored: let the broker append it before the
                # next producer's connection could overtake it, so the order below is the order sent.
                await_condition(f"{codec} acks=0 records are stored", lambda: watermarks.get_watermark_offsets(
                    TopicPartition("rdk", 0), timeout=5)[1] == len(sent))
    watermarks.close()
    consumer = Consumer({"bootstrap.servers": f"127.0.0.1:{broker.port}", "group.id": "unused", "enable.auto.commit": False})
    assert consumer.get_watermark_offsets(TopicPartition("rdk", 0), timeout=10) == (0, len(sent))
    consumer.assign([TopicPartition("rdk", 0, 0)])
    received = []
    deadline = time.time() + 20
    while len(received) < len(sent) and time.time() < deadline:
        message = consumer.poll(1)
        if message is not None and message.error() is None:
            received.append(message.value())
    consumer.close()
    assert received == sent


def test_kafka_python_sends_with_metadata_and_consumes_from_the_beginning(broker, zk_root):
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition
    create_topic(zk_root, broker, "kp", 1)
    producer = KafkaProducer(bootstrap_servers=f"127.0.0.1:{broker.port}", enable_idempotence=False)
    metadata = [producer.send("kp", value=f"message {i}".encode()).get(timeout=10) for i in range(5)]
    producer.close()
    assert [(m.topic, m.partition, m.offset) for m in metadata] == [("kp", 0, i) for i in range(5)]
    consumer = KafkaConsumer(bootstrap_servers=f"127.0.0.1:{broker.port}", consumer_timeout_ms=5000)
    partition = TopicPartition("kp", 0)
    consumer.assign([partition])
    consumer.seek_to_beginning(partition)
    assert consumer.beginning_offsets([partition]) == {partition: 0}
    assert consumer.end_offsets([partition]) == {partition: 5}
    values = [record.value for record in consumer]
    consumer.close()
    assert values == [f"message {i}".encode() for i in range(5)]


def test_kcat_produces_and_consumes_and_a_wrong_partition_is_refused(broker, zk_root):
    create_topic(zk_root, broker, "kcat", 1)
    lines = "".join(f"line {i}\n" for i in range(100))
    run("kcat", "-b", f"127.0.0.1:{broker.port}", "-P", "-t", "kcat", "-p", "0", "-z", "snappy", stdin=lines)
    out = run("kcat", "-b", f"127.0.0.1:{broker.port}", "-C", "-t", "kcat", "-p", "0", "-o", "beginning", "-e", "-q").stdout
    assert out == lines
    # A fetch from beyond the log end is refused with OFFSET_OUT_OF_RANGE, not a hang.
    result = run("kcat", "-b", f"127.0.0.1:{broker.port}", "-C", "-t", "kcat", "-p", "0", "-o", "1000", "-e", "-q",
                 "-X", "auto.offset.reset=error", check=False)
    assert result.returncode != 0 or result.stdout == ""


def test_admin_clients_create_topics_through_the_controller(broker, zk_root):
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic
    from kafka.errors import InvalidReplicationFactorError, TopicAlreadyExistsError
    admin = KafkaAdminClient(bootstrap_servers=f"127.0.0.1:{broker.port}", request_timeout_ms=15000)
    admin.create_topics([NewTopic("created", 3, 1)], timeout_ms=10000)
    assignment = json.loads(zk_root.get(f"{broker.chroot}/brokers/topics/created")[0])
    assert assignment["partitions"] == {"0": [1], "1": [1], "2": [1]} and len(assignment["topic_id"]) == 22
    assert json.loads(zk_root.get(f"{broker.chroot}/config/topics/created")[0]) == {"version": 1, "config": {}}
    for p in range(3):
        state = json.loads(zk_root.get(f"{broker.chroot}/brokers/topics/created/partitions/{p}/state")[0])
        assert state["leader"] == 1
    with pytest.raises(TopicAlreadyExistsError):
        admin.create_topics([NewTopic("created", 1, 1)], timeout_ms=10000)
    with pytest.raises(InvalidReplicationFactorError):
        admin.create_topics([NewTopic("too-many-replicas", 1, 2)], timeout_ms=10000)
    admin.close()

    from confluent_kafka.admin import AdminClient, NewTopic as RdkNewTopic
    rdk_admin = AdminClient({"bootstrap.servers": f"127.0.0.1:{broker.port}"})  # kept alive until the future resolves
    futures = rdk_admin.create_topics([RdkNewTopic("created-rdk", 2, 1)])
    futures["created-rdk"].result(timeout=15)
    assert zk_root.exists(f"{broker.chroot}/brokers/topics/created-rdk")


def test_compression_type_rewrites_batches_into_the_topics_codec(ferry_bin, zk_connect, tmp_path, zk_root):
    """compression.type: the broker's setting (gzip here) for topics without an override, `producer` keeps what the
    client sent, `uncompressed` stores plain batches; what consumers read back is unchanged in every case."""
    from confluent_kafka import Consumer, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient, NewTopic
    broker = BrokerProcess(ferry_bin, zk_connect, tmp_path, extra="compression.type=gzip\n").wait_serving()
    try:
        bootstrap = f"127.0.0.1:{broker.port}"
        admin = AdminClient({"bootstrap.servers": bootstrap})
        topics = {"inherits-gzip": {}, "as-sent": {"compression.type": "producer"}, "plain": {"compression.type": "uncompressed"}}
        futures = admin.create_topics([NewTopic(name, 1, 1, config=config) for name, config in topics.items()])
        for future in futures.values():
            future.result(timeout=15)
        sent = [(f"key-{i}".encode(), f"value {i} ".encode() * 10, [("h", f"{i}".encode())]) for i in range(50)]
        for name in topics:
            producer = Producer({"bootstrap.servers": bootstrap, "compression.codec": "lz4", "linger.ms": 20, "acks": "all"})
            for key, value, headers in sent:
                producer.produce(name, key=key, value=value, headers=headers, timestamp=1_700_000_000_000)
            assert producer.flush(15) == 0
        for name in topics:
            consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused", "enable.auto.commit": False})
            consumer.assign([TopicPartition(name, 0, 0)])
            received = []
            deadline = time.time() + 20
            while len(received) < len(sent) and time.time() < deadline:
                message = consumer.poll(1)
                if message is not None and message.error() is None:
                    received.append((message.key(), message.value(), message.headers(), message.timestamp()[1]))
            consumer.close()
            assert received == [(k, v, h, 1_700_000_000_000) for k, v, h in sent], name
        # librdkafka compresses with lz4 only for brokers that advertise FindCoordinator (its LZ4 feature gate).
        expected_codec = {"inherits-gzip": "gzip", "as-sent": "lz4", "plain": "none"}
        for name, codec in expected_codec.items():
            segment = next((broker.log_dir / f"{name}-0").glob("*.log"))
            dump = run(ferry_bin, "dump-log", "--files", str(segment)).stdout
            codecs = {line.split("compresscodec: ")[1].split()[0] for line in dump.splitlines() if "compresscodec: " in line}
            assert codecs == {codec}, (name, dump)
            assert "isvalid: false" not in dump
    finally:
        broker.stop()


def test_producing_to_a_new_topic_creates_it(broker, zk_root):
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition
    producer = KafkaProducer(bootstrap_servers=f"127.0.0.1:{broker.port}", enable_idempotence=False)
    metadata = producer.send("auto-created", value=b"hello", partition=0).get(timeout=20)
    producer.close()
    assert (metadata.topic, metadata.offset) == ("auto-created", 0)
    assignment = json.loads(zk_root.get(f"{broker.chroot}/brokers/topics/auto-created")[0])
    assert list(assignment["partitions"]) == ["0"]  # num.partitions defaults to 1
    consumer = KafkaConsumer(bootstrap_servers=f"127.0.0.1:{broker.port}", consumer_timeout_ms=5000, auto_offset_reset="earliest")
    consumer.assign([TopicPartition("auto-created", 0)])
    assert [r.value for r in consumer] == [b"hello"]
    consumer.close()


def test_kafka_pythons_default_idempotent_producer_works(broker, zk_root):
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition
    create_topic(zk_root, broker, "idempotent", 1)
    producer = KafkaProducer(bootstrap_servers=f"127.0.0.1:{broker.port}")  # defaults: idempotence on, acks=all
    assert producer.config["enable_idempotence"]
    offsets = [producer.send("idempotent", value=f"v{i}".encode()).get(timeout=15).offset for i in range(10)]
    producer.close()
    assert offsets == list(range(10))
    block = json.loads(zk_root.get(f"{broker.chroot}/latest_producer_id_block")[0])
    assert block["block_start"] == "0" and block["block_end"] == "999" and block["broker"] == 1
    consumer = KafkaConsumer(bootstrap_servers=f"127.0.0.1:{broker.port}", consumer_timeout_ms=5000, auto_offset_reset="earliest")
    consumer.assign([TopicPartition("idempotent", 0)])
    assert [r.value for r in consumer] == [f"v{i}".encode() for i in range(10)]
    consumer.close()


def test_acks_all_needs_min_insync_replicas(ferry_bin, zk_connect, tmp_path, zk_root):
    from kafka import KafkaProducer
    from kafka.errors import NotEnoughReplicasError
    strict = BrokerProcess(ferry_bin, zk_connect, tmp_path, broker_id=5, extra="min.insync.replicas=2\n").wait_serving()
    try:
        create_topic(zk_root, strict, "strict", 1, broker_id=5)
        producer = KafkaProducer(bootstrap_servers=f"127.0.0.1:{strict.port}", acks="all", retries=0, enable_idempotence=False)
        with pytest.raises(NotEnoughReplicasError):
            producer.send("strict", b"refused").get(timeout=15)
        producer.close()
        relaxed = KafkaProducer(bootstrap_servers=f"127.0.0.1:{strict.port}", acks=1, enable_idempotence=False)
        assert relaxed.send("strict", b"accepted").get(timeout=15).offset == 0
        relaxed.close()
    finally:
        strict.stop()


GOLDEN = os.path.join(os.path.dirname(__file__), "..", "KafkaProtocolTests", "Fixtures", "golden")


def replay(port, frame):
    """Sends a captured request frame as is and waits for its response."""
    reply = raw_request(port, struct.pack(">i", len(frame)) + frame)
    assert reply, "the broker closed the connection"
    return reply


def watermark_sum(port, topic, partitions):
    from confluent_kafka import Consumer, TopicPartition
    consumer = Consumer({"bootstrap.servers": f"127.0.0.1:{port}", "group.id": "wm"})
    total = sum(consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in range(partitions))
    consumer.close()
    return total


def test_an_idempotent_batch_sent_twice_is_stored_once_also_after_kill_9(broker, zk_root):
    # kafka-python's idempotent producer sent this request: producer id 1, epoch 0, sequence 0 on each of the
    # partitions it wrote to.
    frame = open(os.path.join(GOLDEN, "produce_request_v9_kafka-python_magic2-none.bin"), "rb").read()
    create_topic(zk_root, broker, "golden-kp3", 4)
    replay(broker.port, frame)
    stored = watermark_sum(broker.port, "golden-kp3", 4)
    assert stored >= 11
    replay(broker.port, frame)  # the producer's retry
    assert watermark_sum(broker.port, "golden-kp3", 4) == stored
    broker.kill9()
    broker.restart()  # waits out the killed process's registration, recovers the unflushed log
    assert watermark_sum(broker.port, "golden-kp3", 4) == stored
    replay(broker.port, frame)
    assert watermark_sum(broker.port, "golden-kp3", 4) == stored


def test_a_produce_with_a_bad_crc_is_answered_and_stores_nothing(broker, zk_root):
    frame = bytearray(open(os.path.join(GOLDEN, "produce_request_v9_kafka-python_magic2-none.bin"), "rb").read())
    create_topic(zk_root, broker, "golden-kp3", 4)
    frame[60 + 61 + 10] ^= 0xFF  # a byte inside the first batch's records, covered by its CRC
    reply = replay(broker.port, bytes(frame))
    assert struct.unpack(">i", reply[:4])[0] == struct.unpack(">i", bytes(frame[4:8]))[0]  # answered, in order
    # Produce v9 response: header v1 (correlation id, empty tags), then compact arrays of topics and partitions.
    pos = 5
    pos += 1                             # topic count (one topic)
    name_length = reply[pos] - 1
    pos += 1 + name_length + 1           # name, partition count
    first_partition, error_code = struct.unpack(">ih", reply[pos:pos + 6])
    assert error_code == 2, f"partition {first_partition}: error {error_code}, expected CORRUPT_MESSAGE (2)"
    assert watermark_sum(broker.port, "golden-kp3", 4) < 20  # the corrupt batch was not stored
    assert broker.process.poll() is None

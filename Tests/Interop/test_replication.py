"""Replication across three real broker processes (issue #6): followers fetch from leaders, the high watermark
and the ISR follow them, acks=all waits for the ISR, and leadership fails over when a leader dies."""
import hashlib
import json
import time

import pytest
from conftest import BrokerProcess, await_condition, await_logged


def state(zk_root, broker, topic, partition):
    return json.loads(zk_root.get(f"{broker.chroot}/brokers/topics/{topic}/partitions/{partition}/state")[0])


def broker_id_of(broker):
    return int(broker.properties.read_text().split("\n", 1)[0].removeprefix("broker.id="))


def broker_with_id(brokers, broker_id):
    return next(b for b in brokers if broker_id_of(b) == broker_id)


def metadata_agrees_with_zookeeper(cluster, zk_root, topic):
    """What clients see through the Metadata API (leader, replicas, ISR) is what ZooKeeper holds."""
    from confluent_kafka.admin import AdminClient
    live = [b for b in cluster if b.process.poll() is None]
    metadata = AdminClient({"bootstrap.servers": ",".join(f"127.0.0.1:{b.port}" for b in live)}).list_topics(topic, timeout=10)
    assignment = json.loads(zk_root.get(f"{cluster[0].chroot}/brokers/topics/{topic}")[0])["partitions"]
    for p, partition in metadata.topics[topic].partitions.items():
        zk_state = state(zk_root, cluster[0], topic, p)
        if (partition.leader, list(partition.replicas), sorted(partition.isrs)) != (
                zk_state["leader"], assignment[str(p)], sorted(zk_state["isr"])):
            return False
    return True


def log_digest(broker, topic, partition):
    """The bytes of a replica's log segments, in order."""
    digest = hashlib.sha256()
    for segment in sorted((broker.log_dir / f"{topic}-{partition}").glob("*.log")):
        digest.update(segment.read_bytes())
    return digest.hexdigest()


def create_replicated_topic(cluster, name, partitions, min_insync=2):
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic
    admin = KafkaAdminClient(bootstrap_servers=[f"127.0.0.1:{b.port}" for b in cluster], request_timeout_ms=15000)
    # No retry on INVALID_REPLICATION_FACTOR: brokers that have printed "started" are registered, and the controller
    # places replicas over /brokers/ids as ZooKeeper has it, even if its own watch has not fired yet.
    admin.create_topics([NewTopic(name, partitions, 3, topic_configs={"min.insync.replicas": str(min_insync)})], timeout_ms=15000)
    admin.close()


def produce(cluster, topic, values, acks="all", linger_ms=2, **extra):
    from confluent_kafka import Producer
    producer = Producer({"bootstrap.servers": ",".join(f"127.0.0.1:{b.port}" for b in cluster if b.process.poll() is None),
                         "acks": acks, "linger.ms": linger_ms, **extra})
    failures, delivered = [], []
    for value in values:
        producer.produce(topic, value=value, on_delivery=lambda err, msg: (failures if err else delivered).append(err or msg))
    producer.flush(60)
    return delivered, failures


def consume_all(cluster, topic, partitions, expected):
    from confluent_kafka import Consumer, TopicPartition
    consumer = Consumer({"bootstrap.servers": ",".join(f"127.0.0.1:{b.port}" for b in cluster if b.process.poll() is None),
                         "group.id": "replication-check", "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    seen = []
    deadline = time.time() + 30
    while len(seen) < expected and time.time() < deadline:
        message = consume = consumer.poll(0.5)
        if message is not None and message.error() is None:
            seen.append((message.partition(), message.offset(), message.value()))
    consumer.close()
    return seen


def test_acks_all_replicates_to_every_isr_member_and_the_logs_are_identical(cluster, zk_root):
    create_replicated_topic(cluster, "replicated", 2)
    for p in range(2):
        assert sorted(state(zk_root, cluster[0], "replicated", p)["isr"]) == [1, 2, 3]
    values = [f"record {i}".encode() for i in range(300)]
    delivered, failures = produce(cluster, "replicated", values)
    assert not failures and len(delivered) == 300
    seen = consume_all(cluster, "replicated", 2, 300)
    assert sorted(v for _, _, v in seen) == sorted(values)
    for p in range(2):
        offsets = [o for q, o, _ in seen if q == p]
        assert offsets == list(range(len(offsets)))
        await_condition(f"the three replicas of partition {p} hold the same bytes",
                        lambda: len({log_digest(b, "replicated", p) for b in cluster}) == 1)
        assert sorted(state(zk_root, cluster[0], "replicated", p)["isr"]) == [1, 2, 3]


def test_a_killed_leader_is_replaced_and_catches_up_when_it_returns(cluster, zk_root):
    create_replicated_topic(cluster, "failover", 1)
    delivered, failures = produce(cluster, "failover", [f"before {i}".encode() for i in range(100)])
    assert not failures
    leader_id = state(zk_root, cluster[0], "failover", 0)["leader"]
    leader = broker_with_id(cluster, leader_id)
    epoch = state(zk_root, cluster[0], "failover", 0)["leader_epoch"]
    leader.kill9()
    started = time.time()
    await_condition("another broker leads", lambda: state(zk_root, cluster[0], "failover", 0)["leader"] not in (leader_id, -1))
    print(f"failover after kill -9: {time.time() - started:.1f} s (session timeout 4 s)")
    after = state(zk_root, cluster[0], "failover", 0)
    assert after["leader_epoch"] > epoch and leader_id not in after["isr"]
    await_condition("Metadata shows the new leader", lambda: metadata_agrees_with_zookeeper(cluster, zk_root, "failover"))
    delivered, failures = produce(cluster, "failover", [f"after {i}".encode() for i in range(100)])
    assert not failures and len(delivered) == 100
    leader.restart()
    await_condition("the old leader rejoins the ISR", lambda: leader_id in state(zk_root, cluster[0], "failover", 0)["isr"])
    await_condition("every replica holds the same bytes", lambda: len({log_digest(b, "failover", 0) for b in cluster}) == 1)
    seen = consume_all(cluster, "failover", 1, 200)
    assert [o for _, o, _ in seen] == list(range(200))


def test_sigterm_moves_leadership_away_before_the_broker_stops(cluster, zk_root):
    create_replicated_topic(cluster, "handover", 3)
    delivered, failures = produce(cluster, "handover", [f"r{i}".encode() for i in range(30)])
    assert not failures
    leaders = {p: state(zk_root, cluster[0], "handover", p)["leader"] for p in range(3)}
    victim_id = leaders[0]
    victim = broker_with_id(cluster, victim_id)
    started = time.time()
    assert victim.stop() == 0
    stopped = time.time() - started
    # Controlled shutdown: by the time the process has exited, nothing is led by it and it is in no ISR.
    for p in range(3):
        after = state(zk_root, cluster[0], "handover", p)
        assert after["leader"] != victim_id and victim_id not in after["isr"] and after["leader"] >= 0
    assert "controlled shutdown succeeded" in victim.output.read_text()
    print(f"controlled shutdown of the leader took {stopped * 1000:.0f} ms")
    delivered, failures = produce(cluster, "handover", [f"s{i}".encode() for i in range(30)])
    assert not failures and len(delivered) == 30


def produce_v10_raw(broker, topic, partition):
    """A Produce v10 request (acks=all, no records) sent to one broker; its decoded response."""
    import socket
    import struct
    from kafka.protocol.producer import ProduceRequest, ProduceResponse
    request = ProduceRequest(version=10, transactional_id=None, acks=-1, timeout_ms=5000, topic_data=[
        ProduceRequest.TopicProduceData(name=topic, partition_data=[
            ProduceRequest.TopicProduceData.PartitionProduceData(index=partition, records=b"")])])
    request.with_header(correlation_id=41, client_id="kip-951-check")
    with socket.create_connection(("127.0.0.1", broker.port), timeout=10) as connection:
        connection.sendall(request.encode(version=10, header=True, framed=True))
        size = struct.unpack(">i", connection.recv(4, socket.MSG_WAITALL))[0]
        body = connection.recv(size, socket.MSG_WAITALL)
    return ProduceResponse.decode(body, version=10, header=True)


def test_a_produce_to_a_follower_names_the_leader_kip_951(cluster, zk_root):
    """Produce v10 (KIP-951): a broker that does not lead the partition answers NOT_LEADER_OR_FOLLOWER with the
    leader and leader epoch it knows and the leader's endpoint, so a client (librdkafka 2.4+) goes there at once."""
    create_replicated_topic(cluster, "hinted", 1)
    delivered, failures = produce(cluster, "hinted", [b"one"])
    assert not failures
    zk_state = state(zk_root, cluster[0], "hinted", 0)
    leader = broker_with_id(cluster, zk_state["leader"])
    follower = next(b for b in cluster if b is not leader)
    response = produce_v10_raw(follower, "hinted", 0)
    answer = response.responses[0].partition_responses[0]
    assert answer.error_code == 6  # NOT_LEADER_OR_FOLLOWER
    assert (answer.current_leader.leader_id, answer.current_leader.leader_epoch) == (zk_state["leader"], zk_state["leader_epoch"])
    assert [(n.node_id, n.host, n.port) for n in response.node_endpoints] == [(zk_state["leader"], "127.0.0.1", leader.port)]
    # The leader itself takes the request: no hint.
    answer = produce_v10_raw(leader, "hinted", 0).responses[0].partition_responses[0]
    assert answer.error_code != 6 and (answer.current_leader is None or answer.current_leader.leader_id == -1)


def plain_producer(brokers, acks):
    """kafka-python without retries or idempotence, so each send's own error reaches the test."""
    from kafka import KafkaProducer
    return KafkaProducer(bootstrap_servers=[f"127.0.0.1:{b.port}" for b in brokers], acks=acks, retries=0,
                         enable_idempotence=False, request_timeout_ms=30000, max_block_ms=20000)


def test_min_insync_replicas_refuses_acks_all_while_the_followers_are_stalled(ferry_bin, zk_connect, tmp_path, zk_root):
    """RF 3, min.insync.replicas 2, both followers stopped (SIGSTOP). A produce appended just before the ISR
    shrinks is answered NOT_ENOUGH_REPLICAS_AFTER_APPEND once the leader drops them; the next acks=all produce is
    refused with NOT_ENOUGH_REPLICAS without being appended (acks=1 still is); when the followers resume they
    rejoin the ISR and acks=all works again."""
    import signal
    import uuid
    from kafka.errors import NotEnoughReplicasAfterAppendError, NotEnoughReplicasError
    chroot = f"/ferry-minisr-{uuid.uuid4().hex[:8]}"
    extra = "replica.lag.time.max.ms=1000\n"
    brokers = [BrokerProcess(ferry_bin, zk_connect, tmp_path, broker_id=i, chroot=chroot, extra=extra) for i in (1, 2, 3)]
    stopped = []
    try:
        for broker in brokers:
            broker.wait_serving()
        create_replicated_topic(brokers, "guarded", 1, min_insync=2)
        await_condition("the ISR is full", lambda: sorted(state(zk_root, brokers[0], "guarded", 0)["isr"]) == [1, 2, 3])
        leader_id = state(zk_root, brokers[0], "guarded", 0)["leader"]
        leader = broker_with_id(brokers, leader_id)
        # Only the leader is bootstrapped: a client must not pick a stopped broker for its metadata.
        strict, relaxed = plain_producer([leader], "all"), plain_producer([leader], 1)
        assert strict.send("guarded", b"in sync").get(timeout=20).offset == 0
        # Both producers learn the metadata now: once the followers stop, a metadata request sent to one of them
        # would hang.
        assert relaxed.send("guarded", b"in sync, acks=1").get(timeout=20).offset == 1

        stopped = [b for b in brokers if b is not leader]
        for follower in stopped:
            follower.process.send_signal(signal.SIGSTOP)
        with pytest.raises(NotEnoughReplicasAfterAppendError):
            strict.send("guarded", b"appended, then the ISR shrank").get(timeout=25)
        assert state(zk_root, brokers[0], "guarded", 0)["isr"] == [leader_id]
        with pytest.raises(NotEnoughReplicasError):
            strict.send("guarded", b"refused").get(timeout=20)
        # The refused record was not appended: acks=1 gets the next offset after the one that was.
        assert relaxed.send("guarded", b"acks=1").get(timeout=20).offset == 3

        for follower in stopped:
            follower.process.send_signal(signal.SIGCONT)
        stopped = []
        await_condition("the followers rejoin the ISR", lambda: sorted(state(zk_root, brokers[0], "guarded", 0)["isr"]) == [1, 2, 3])
        assert strict.send("guarded", b"in sync again").get(timeout=20).offset == 4
        strict.close()
        relaxed.close()
        await_condition("every replica holds the same bytes", lambda: len({log_digest(b, "guarded", 0) for b in brokers}) == 1)
    finally:
        for follower in stopped:
            follower.process.send_signal(signal.SIGCONT)
        for broker in brokers:
            broker.stop()


def test_a_waiting_acks_all_produce_is_answered_not_leader_when_the_leadership_moves(ferry_bin, zk_connect, tmp_path, zk_root):
    """An acks=all produce waits for a stopped follower that is still in the ISR; a preferred election moves the
    leadership meanwhile. The old leader answers NOT_LEADER_OR_FOLLOWER at once rather than at the request
    timeout, as Kafka completes its delayed produces when a partition becomes follower."""
    import signal
    import uuid
    from confluent_kafka import ElectionType, TopicPartition
    from confluent_kafka.admin import AdminClient
    from kafka.errors import NotLeaderForPartitionError
    chroot = f"/ferry-moving-{uuid.uuid4().hex[:8]}"
    # A long lag time keeps the stopped follower in the ISR; a long session keeps it registered.
    extra = "replica.lag.time.max.ms=60000\nzookeeper.session.timeout.ms=30000\nauto.leader.rebalance.enable=false\n"
    brokers = [BrokerProcess(ferry_bin, zk_connect, tmp_path, broker_id=i, chroot=chroot, extra=extra) for i in (1, 2, 3)]
    stalled = None
    try:
        for broker in brokers:
            broker.wait_serving()
        create_replicated_topic(brokers, "moving", 1, min_insync=2)
        await_condition("the ISR is full", lambda: sorted(state(zk_root, brokers[0], "moving", 0)["isr"]) == [1, 2, 3])
        preferred = json.loads(zk_root.get(f"{chroot}/brokers/topics/moving")[0])["partitions"]["0"]
        # Move the leadership off the preferred replica (controlled shutdown), and bring that replica back.
        first = broker_with_id(brokers, preferred[0])
        assert first.stop() == 0
        first.restart()
        await_condition("the preferred replica is back in the ISR", lambda: preferred[0] in state(zk_root, brokers[0], "moving", 0)["isr"])
        leader = broker_with_id(brokers, state(zk_root, brokers[0], "moving", 0)["leader"])
        assert leader is not first
        stalled = next(b for b in brokers if b is not leader and b is not first)
        if json.loads(zk_root.get(f"{chroot}/controller")[0])["brokerid"] == broker_id_of(stalled):
            # ElectLeaders goes to the controller, which must not be the broker about to be stopped: move it.
            assert stalled.stop() == 0
            stalled.restart()
            await_condition("the ISR is full again", lambda: sorted(state(zk_root, brokers[0], "moving", 0)["isr"]) == [1, 2, 3])
            assert json.loads(zk_root.get(f"{chroot}/controller")[0])["brokerid"] != broker_id_of(stalled)
        producer = plain_producer([leader], "all")
        assert producer.send("moving", b"warm").get(timeout=20)

        stalled.process.send_signal(signal.SIGSTOP)
        waiting = producer.send("moving", b"waits for the stalled follower")
        await_condition("the produce is waiting on the leader", lambda: leader_log_end(leader, "moving") == 2)
        admin = AdminClient({"bootstrap.servers": f"127.0.0.1:{first.port}"})
        started = time.time()
        result = admin.elect_leaders(ElectionType.PREFERRED, [TopicPartition("moving", 0)]).result(timeout=20)
        assert result[TopicPartition("moving", 0)] is None, result
        with pytest.raises(NotLeaderForPartitionError):
            waiting.get(timeout=25)
        answered = time.time() - started
        print(f"the waiting produce was answered {answered * 1000:.0f} ms after the election request")
        assert answered < 10, "answered at the request timeout, not when the leadership moved"
        producer.close()
    finally:
        if stalled is not None:
            stalled.process.send_signal(signal.SIGCONT)
        for broker in brokers:
            broker.stop()


def leader_log_end(broker, topic):
    """The number of records in a replica's log, from its segment files (one record per batch here)."""
    count = 0
    for segment in sorted((broker.log_dir / f"{topic}-0").glob("*.log")):
        data = segment.read_bytes()
        position = 0
        while position + 12 <= len(data):
            length = int.from_bytes(data[position + 8:position + 12], "big")
            if length == 0:
                break
            count += int.from_bytes(data[position + 57:position + 61], "big")
            position += 12 + length
    return count


def test_preferred_leaders_come_back_on_request(cluster, zk_root):
    from confluent_kafka import TopicPartition
    from confluent_kafka import ElectionType
    from confluent_kafka.admin import AdminClient
    create_replicated_topic(cluster, "preferred", 2)
    assignment = json.loads(zk_root.get(f"{cluster[0].chroot}/brokers/topics/preferred")[0])["partitions"]
    preferred = assignment["0"][0]
    victim = broker_with_id(cluster, preferred)
    assert victim.stop() == 0
    assert state(zk_root, cluster[0], "preferred", 0)["leader"] != preferred
    victim.restart()
    await_condition("the preferred replica is back in the ISR", lambda: preferred in state(zk_root, cluster[0], "preferred", 0)["isr"])
    assert state(zk_root, cluster[0], "preferred", 0)["leader"] != preferred

    # ElectLeaders through confluent-kafka's admin client.
    admin = AdminClient({"bootstrap.servers": ",".join(f"127.0.0.1:{b.port}" for b in cluster)})
    result = admin.elect_leaders(ElectionType.PREFERRED, [TopicPartition("preferred", 0)]).result(timeout=20)
    assert result[TopicPartition("preferred", 0)] is None, result
    assert state(zk_root, cluster[0], "preferred", 0)["leader"] == preferred
    await_condition("Metadata shows the preferred leader", lambda: metadata_agrees_with_zookeeper(cluster, zk_root, "preferred"))

    # The legacy request znode (kafka-preferred-replica-election.sh): the controller acts on it and deletes it.
    other = broker_with_id(cluster, assignment['1'][0])
    assert other.stop() == 0
    other.restart()
    await_condition("partition 1's preferred replica is back in sync",
                    lambda: assignment["1"][0] in state(zk_root, cluster[0], "preferred", 1)["isr"])
    zk_root.create(f"{cluster[0].chroot}/admin/preferred_replica_election",
                   json.dumps({"version": 1, "partitions": [{"topic": "preferred", "partition": 1}]}).encode())
    await_condition("partition 1 is led by its preferred replica again",
                    lambda: state(zk_root, cluster[0], "preferred", 1)["leader"] == assignment["1"][0])
    await_condition("the request znode is gone", lambda: not zk_root.exists(f"{cluster[0].chroot}/admin/preferred_replica_election"))


def test_unclean_election_off_keeps_the_partition_offline_and_on_elects_with_a_log_line(ferry_bin, zk_connect, tmp_path, zk_root):
    import uuid
    for unclean in ("false", "true"):
        chroot = f"/ferry-unclean-{uuid.uuid4().hex[:8]}"
        extra = f"unclean.leader.election.enable={unclean}\nreplica.lag.time.max.ms=1000\n"
        brokers = [BrokerProcess(ferry_bin, zk_connect, tmp_path, broker_id=i, chroot=chroot, extra=extra)
                   for i in (1, 2)]
        try:
            for broker in brokers:
                broker.wait_serving()
            zk_root.create(f"{chroot}/brokers/topics/fragile",
                           json.dumps({"version": 3, "partitions": {"0": [1, 2]}, "adding_replicas": {}, "removing_replicas": {}}).encode())
            await_condition("both replicas are in sync", lambda: sorted(state(zk_root, brokers[0], "fragile", 0)["isr"]) == [1, 2])
            # The follower stops (cleanly: it leaves the ISR), then the leader dies: the ISR is all dead.
            assert brokers[1].stop() == 0
            await_condition("broker 2 left the ISR", lambda: state(zk_root, brokers[0], "fragile", 0)["isr"] == [1])
            brokers[0].kill9()
            brokers[1].restart()
            if unclean == "false":
                await_condition("the partition is offline", lambda: state(zk_root, brokers[1], "fragile", 0)["leader"] == -1)
                time.sleep(1)  # give a wrong election the chance to happen (nothing to await: the state must stay)
                assert state(zk_root, brokers[1], "fragile", 0)["leader"] == -1
                # Allowing it at run time (a dynamic cluster-wide broker config) elects at once, as Kafka's controller
                # does when the default changes.
                from test_tools import tool
                code, out, err = tool("kafka-configs.sh", "--bootstrap-server", f"127.0.0.1:{brokers[1].port}", "--alter",
                                      "--entity-type", "brokers", "--entity-default", "--add-config", "unclean.leader.election.enable=true")
                assert code == 0, err
                await_condition("broker 2 is elected uncleanly once allowed", lambda: state(zk_root, brokers[1], "fragile", 0)["leader"] == 2)
                await_logged(brokers[1], "unclean leader election")
            else:
                await_condition("broker 2 is elected uncleanly", lambda: state(zk_root, brokers[1], "fragile", 0)["leader"] == 2)
                await_logged(brokers[1], "unclean leader election")
        finally:
            for broker in brokers:
                if broker.process.poll() is None:
                    broker.kill9()


def test_a_killed_controller_is_replaced_and_no_partition_is_left_leaderless(cluster, zk_root):
    create_replicated_topic(cluster, "steady", 3)
    controller_id = json.loads(zk_root.get(f"{cluster[0].chroot}/controller")[0])["brokerid"]
    victim = broker_with_id(cluster, controller_id)
    epoch = int(zk_root.get(f"{cluster[0].chroot}/controller_epoch")[0])
    victim.kill9()
    started = time.time()

    def new_controller():
        data = zk_root.exists(f"{cluster[0].chroot}/controller") and zk_root.get(f"{cluster[0].chroot}/controller")[0]
        return data and json.loads(data)["brokerid"] != controller_id

    await_condition("another broker becomes controller", new_controller)
    print(f"new controller {time.time() - started:.1f} s after kill -9 (session timeout 4 s)")
    assert int(zk_root.get(f"{cluster[0].chroot}/controller_epoch")[0]) == epoch + 1
    await_condition("every partition has a live leader", lambda: all(
        state(zk_root, cluster[0], "steady", p)["leader"] not in (-1, controller_id) for p in range(3)))
    delivered, failures = produce(cluster, "steady", [b"after the controller died"] * 10)
    assert not failures


def checkpointed_high_watermark(broker, topic, partition):
    """The high watermark a broker last wrote to its `replication-offset-checkpoint` (Kafka's format: a version line,
    a count line, then `topic partition offset` lines), rewritten every 5 s; None before the first one."""
    path = broker.log_dir / "replication-offset-checkpoint"
    if not path.exists():
        return None
    for line in path.read_text().splitlines()[2:]:
        name, number, offset = line.split(" ")
        if (name, int(number)) == (topic, partition):
            return int(offset)
    return None


@pytest.mark.parametrize("idempotent", [True, False], ids=["idempotent", "plain"])
def test_acknowledged_records_survive_kills_and_a_stall(ferry_bin, zk_connect, tmp_path, zk_root, idempotent):
    """The issue's chaos run: RF 3, min.insync.replicas 2, acks=all, while the leader is killed (-9) and restarted, a
    follower is killed and restarted, and one broker is stopped (SIGSTOP) past the replica lag time. Every
    acknowledged record is then readable, in order; exactly once with the idempotent producer, at least once without
    (a retried batch the leader had already written is written again). The replicas' logs are byte-identical and
    their high watermarks agree."""
    import signal
    import threading
    import uuid
    from confluent_kafka import Producer
    chroot = f"/ferry-chaos-{uuid.uuid4().hex[:8]}"
    extra = "replica.lag.time.max.ms=1500\n"
    brokers = [BrokerProcess(ferry_bin, zk_connect, tmp_path, broker_id=i, chroot=chroot, extra=extra) for i in (1, 2, 3)]
    for broker in brokers:
        broker.wait_serving()

    try:
        create_replicated_topic(brokers, "chaos", 1)
        acknowledged, errors = [], []
        stop = threading.Event()

        def produce_stream():
            producer = Producer({"bootstrap.servers": ",".join(f"127.0.0.1:{b.port}" for b in brokers),
                                 "enable.idempotence": idempotent, "acks": "all", "linger.ms": 1,
                                 "message.timeout.ms": 60000, "retry.backoff.ms": 20,
                                 # Without idempotence only one request in flight keeps a retry in order.
                                 "max.in.flight.requests.per.connection": 5 if idempotent else 1})
            number = 0
            while not stop.is_set():
                producer.produce("chaos", value=str(number).encode(), partition=0,
                                 on_delivery=lambda err, msg: errors.append(err) if err else acknowledged.append(int(msg.value())))
                number += 1
                producer.poll(0)
                time.sleep(0.002)
            producer.flush(60)

        thread = threading.Thread(target=produce_stream)
        thread.start()
        await_condition("records flow", lambda: len(acknowledged) > 100)

        leader = broker_with_id(brokers, state(zk_root, brokers[0], "chaos", 0)["leader"])
        leader.kill9()
        await_condition("a new leader", lambda: state(zk_root, brokers[0], "chaos", 0)["leader"] not in (-1, broker_id_of(leader)))
        count = len(acknowledged)
        await_condition("records flow again", lambda: len(acknowledged) > count + 100)
        leader.restart()
        await_condition("the ISR is whole again", lambda: len(state(zk_root, brokers[0], "chaos", 0)["isr"]) == 3)

        current = state(zk_root, brokers[0], "chaos", 0)["leader"]
        follower = next(b for b in brokers if b is not broker_with_id(brokers, current))
        follower.kill9()
        count = len(acknowledged)
        await_condition("records flow with a follower dead", lambda: len(acknowledged) > count + 100)
        follower.restart()
        await_condition("the ISR is whole again", lambda: len(state(zk_root, brokers[0], "chaos", 0)["isr"]) == 3)

        current = state(zk_root, brokers[0], "chaos", 0)["leader"]
        stalled = next(b for b in brokers if b is not broker_with_id(brokers, current))
        stalled_id = broker_id_of(stalled)
        stalled.process.send_signal(signal.SIGSTOP)
        await_condition("the stalled follower leaves the ISR", lambda: stalled_id not in state(zk_root, brokers[0], "chaos", 0)["isr"])
        stalled.process.send_signal(signal.SIGCONT)
        await_condition("it rejoins", lambda: len(state(zk_root, brokers[0], "chaos", 0)["isr"]) == 3)

        count = len(acknowledged)
        await_condition("records flow at the end", lambda: len(acknowledged) > count + 100)
        stop.set()
        thread.join(90)
        assert not errors, errors[:3]

        from confluent_kafka import Consumer, TopicPartition
        watermarks = Consumer({"bootstrap.servers": ",".join(f"127.0.0.1:{b.port}" for b in brokers), "group.id": "hw"})
        end_offset = watermarks.get_watermark_offsets(TopicPartition("chaos", 0), timeout=10)[1]
        watermarks.close()
        seen = consume_all(brokers, "chaos", 1, end_offset)
        assert [offset for _, offset, _ in seen] == list(range(end_offset))
        values = [int(v) for _, _, v in seen]
        assert set(acknowledged) <= set(values), "an acknowledged record was lost"
        if idempotent:
            assert len(values) == len(set(values)), "a record was stored twice"
        first_copies = list(dict.fromkeys(values))
        assert first_copies == sorted(first_copies), "records out of order"
        await_condition("the three replicas hold the same bytes", lambda: len({log_digest(b, "chaos", 0) for b in brokers}) == 1)
        await_condition(f"every replica checkpoints the high watermark {end_offset}",
                        lambda: {checkpointed_high_watermark(b, "chaos", 0) for b in brokers} == {end_offset}, timeout=20)
    finally:
        for broker in brokers:
            if broker.process.poll() is None:
                broker.process.send_signal(signal.SIGCONT)
                broker.stop()


def test_a_reassignment_moves_a_partition_and_its_data_to_new_replicas(cluster, zk_root):
    """`kafka-reassign-partitions.sh --zookeeper` writes /admin/reassign_partitions; the controller moves the
    partition, the new replicas catch up before the old one is dropped, and its log goes from the old broker."""
    chroot = cluster[0].chroot
    zk_root.create(f"{chroot}/brokers/topics/moving",
                   json.dumps({"version": 3, "partitions": {"0": [1]}, "adding_replicas": {}, "removing_replicas": {}}).encode())
    await_condition("partition 0 has a leader", lambda: state(zk_root, cluster[0], "moving", 0)["leader"] == 1)
    delivered, failures = produce(cluster, "moving", [f"m{i}".encode() for i in range(200)], acks=1)
    assert not failures
    zk_root.create(f"{chroot}/admin/reassign_partitions",
                   json.dumps({"version": 1, "partitions": [{"topic": "moving", "partition": 0, "replicas": [2, 3]}]}).encode())
    await_condition("the request is done", lambda: not zk_root.exists(f"{chroot}/admin/reassign_partitions"))
    await_condition("Metadata shows the new replicas", lambda: metadata_agrees_with_zookeeper(cluster, zk_root, "moving"))
    assignment = json.loads(zk_root.get(f"{chroot}/brokers/topics/moving")[0])
    assert assignment["partitions"] == {"0": [2, 3]} and assignment["adding_replicas"] == {} and assignment["removing_replicas"] == {}
    after = state(zk_root, cluster[0], "moving", 0)
    assert after["leader"] in (2, 3) and sorted(after["isr"]) == [2, 3]
    await_condition("broker 1 deleted its copy", lambda: not (cluster[0].log_dir / "moving-0").exists())
    seen = consume_all(cluster, "moving", 1, 200)
    assert [v for _, _, v in seen] == [f"m{i}".encode() for i in range(200)]
    await_condition("the new replicas hold the same bytes", lambda: log_digest(cluster[1], "moving", 0) == log_digest(cluster[2], "moving", 0))


def zookeeper_leader(zk_connect):
    """The node number (1-3, by client port order) of the ensemble's current leader, asked with `srvr`."""
    import socket
    for number, server in enumerate(zk_connect.split(","), start=1):
        host, port = server.rsplit(":", 1)
        try:
            with socket.create_connection((host, int(port)), timeout=2) as connection:
                connection.sendall(b"srvr")
                reply = b""
                while chunk := connection.recv(4096):
                    reply += chunk
        except OSError:
            continue
        if b"Mode: leader" in reply:
            return number
    raise AssertionError("no ZooKeeper server reports itself leader")


def test_a_zookeeper_server_dies_during_traffic_and_clients_notice_nothing(cluster, zk_root, zk_conf_dir, zk_connect):
    """The ensemble's leader is killed mid-stream: every broker's connection drops while the other two elect a
    new leader, and the sessions move on. Nothing fails: the stream is delivered, and a topic created at that
    very moment (the controller's ZooKeeper requests wait for the reconnect) gets leaders."""
    import pathlib
    import subprocess
    import threading
    script = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "zk-ensemble.sh"
    create_replicated_topic(cluster, "steady-zk", 1)
    results = {}

    def stream():
        results["delivered"], results["failures"] = produce(cluster, "steady-zk", [f"z{i}".encode() for i in range(3000)], linger_ms=1)

    killed = zookeeper_leader(zk_connect)
    thread = threading.Thread(target=stream)
    thread.start()
    subprocess.run(["bash", script, "--conf-dir", zk_conf_dir, "kill", str(killed)], check=True, capture_output=True)
    try:
        create_replicated_topic(cluster, "after-zk-loss", 1)
        thread.join(120)
        assert not results["failures"] and len(results["delivered"]) == 3000
        # kazoo, unlike the brokers' client, refuses requests while it reconnects (SessionExpiredError): retry.
        await_condition("the new topic has a leader", lambda: state(zk_root, cluster[0], "after-zk-loss", 0)["leader"] in (1, 2, 3))
    finally:
        restarted = subprocess.run(["bash", script, "--conf-dir", zk_conf_dir, "start", str(killed)], capture_output=True, text=True)
        assert restarted.returncode == 0, restarted.stderr


def test_a_broker_whose_session_expires_loses_leadership_rejoins_and_catches_up(cluster, zk_root):
    """SIGSTOP past the ZooKeeper session timeout: the ephemeral registration goes, the controller moves the
    leadership, the broker re-registers on SIGCONT, follows the new leader and ends with identical bytes."""
    import signal
    create_replicated_topic(cluster, "expiring", 1)
    delivered, failures = produce(cluster, "expiring", [f"a{i}".encode() for i in range(100)])
    assert not failures
    leader_id = state(zk_root, cluster[0], "expiring", 0)["leader"]
    leader = broker_with_id(cluster, leader_id)
    leader.process.send_signal(signal.SIGSTOP)
    try:
        await_condition("its registration expires", lambda: not zk_root.exists(f"{leader.chroot}/brokers/ids/{leader_id}"))
        await_condition("another broker leads", lambda: state(zk_root, cluster[0], "expiring", 0)["leader"] not in (-1, leader_id))
        delivered, failures = produce([b for b in cluster if b is not leader], "expiring", [f"b{i}".encode() for i in range(100)])
        assert not failures
    finally:
        leader.process.send_signal(signal.SIGCONT)
    await_condition("it registers again", lambda: zk_root.exists(f"{leader.chroot}/brokers/ids/{leader_id}"))
    await_condition("it rejoins the ISR", lambda: leader_id in state(zk_root, cluster[0], "expiring", 0)["isr"])
    await_condition("every replica holds the same bytes", lambda: len({log_digest(b, "expiring", 0) for b in cluster}) == 1)
    assert "session" in leader.output.read_text().lower()

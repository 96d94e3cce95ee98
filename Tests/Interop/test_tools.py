"""Kafka's command-line tools as a user drives them from a shell (issue #7): the scripts under scripts/, run as
subprocesses against a real three-broker cluster, compared on output and exit code."""
import json
import pathlib
import subprocess
import time

from conftest import await_condition
from test_replication import state

SCRIPTS = pathlib.Path(__file__).resolve().parents[2] / "scripts"


def tool(name, *args):
    """Runs scripts/<name> with `args`; returns (exit code, stdout, stderr)."""
    result = subprocess.run(["bash", str(SCRIPTS / name), *args], capture_output=True, text=True, timeout=60)
    return result.returncode, result.stdout, result.stderr


def zookeeper(cluster, zk_connect):
    """The --zookeeper argument for the cluster: the ensemble and the cluster's chroot, as a user writes it."""
    return zk_connect + cluster[0].chroot


def test_kafka_topics_with_zookeeper_creates_lists_describes_grows_and_deletes(cluster, zk_connect, zk_root):
    zk = zookeeper(cluster, zk_connect)
    # Seed 004 writes `-topic` with one dash; seed 002 the long form with the whole ensemble.
    code, out, err = tool("kafka-topics.sh", "--create", "--zookeeper", zk, "--replication-factor", "2", "--partitions", "3",
                          "-topic", "orders")
    assert (code, out, err) == (0, "Created topic orders.\n", "")
    await_condition("every partition has a leader", lambda: all(
        state(zk_root, cluster[0], "orders", p)["leader"] in (1, 2, 3) for p in range(3)))

    code, out, _ = tool("kafka-topics.sh", "--zookeeper", zk, "--list")
    assert (code, out) == (0, "orders\n")

    code, out, _ = tool("kafka-topics.sh", "--zookeeper", zk, "--describe", "--topic", "orders")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Topic: orders\tPartitionCount: 3\tReplicationFactor: 2\tConfigs: "
    assignment = json.loads(zk_root.get(f"{cluster[0].chroot}/brokers/topics/orders")[0])["partitions"]
    for p in range(3):
        s = state(zk_root, cluster[0], "orders", p)
        replicas = ",".join(map(str, assignment[str(p)]))
        isr = ",".join(map(str, s["isr"]))
        assert lines[1 + p] == f"\tTopic: orders\tPartition: {p}\tLeader: {s['leader']}\tReplicas: {replicas}\tIsr: {isr}"
    assert len(lines) == 4

    # Growing works; shrinking is one clear error line and exit 1, the topic untouched.
    code, out, _ = tool("kafka-topics.sh", "--zookeeper", zk, "--alter", "--topic", "orders", "--partitions", "5")
    assert code == 0 and out.splitlines()[-1] == "Adding partitions succeeded!"
    await_condition("the new partitions get leaders", lambda: state(zk_root, cluster[0], "orders", 4)["leader"] in (1, 2, 3))
    code, out, _ = tool("kafka-topics.sh", "--zookeeper", zk, "--alter", "--topic", "orders", "--partitions", "2")
    assert code == 1
    assert out.splitlines()[-1] == ("Error while executing topic command : The number of partitions for a topic can only be "
                                    "increased. Topic orders currently has 5 partitions, 2 would not be an increase.")
    assert len(json.loads(zk_root.get(f"{cluster[0].chroot}/brokers/topics/orders")[0])["partitions"]) == 5

    code, out, _ = tool("kafka-topics.sh", "--zookeeper", zk, "--delete", "--topic", "orders")
    assert (code, out) == (0, "Topic orders is marked for deletion.\n"
                              "Note: This will have no impact if delete.topic.enable is not set to true.\n")
    await_condition("the topic is gone", lambda: tool("kafka-topics.sh", "--zookeeper", zk, "--list")[1] == "")


def test_kafka_topics_errors_are_one_clear_line_and_a_non_zero_exit(cluster, zk_connect):
    zk = zookeeper(cluster, zk_connect)
    code, out, _ = tool("kafka-topics.sh", "--zookeeper", zk, "--create", "--topic", "wide", "--partitions", "1",
                        "--replication-factor", "4")
    assert (code, out) == (1, "Error while executing topic command : Replication factor: 4 larger than available brokers: 3.\n")

    assert tool("kafka-topics.sh", "--zookeeper", zk, "--create", "--topic", "once", "--partitions", "1",
                "--replication-factor", "1")[0] == 0
    code, out, _ = tool("kafka-topics.sh", "--zookeeper", zk, "--create", "--topic", "once", "--partitions", "1",
                        "--replication-factor", "1")
    assert (code, out) == (1, "Error while executing topic command : Topic 'once' already exists.\n")
    assert tool("kafka-topics.sh", "--zookeeper", zk, "--create", "--topic", "once", "--partitions", "1",
                "--replication-factor", "1", "--if-not-exists") == (0, "", "")

    code, out, _ = tool("kafka-topics.sh", "--zookeeper", zk, "--describe", "--topic", "missing")
    assert (code, out) == (1, "Error while executing topic command : Topic 'missing' does not exist as expected\n")
    assert tool("kafka-topics.sh", "--zookeeper", zk, "--describe", "--topic", "missing", "--if-exists") == (0, "", "")

    # Usage errors: the message and the help on stderr, exit 1, as Kafka's CommandLineUtils.printUsageAndDie.
    code, out, err = tool("kafka-topics.sh", "--zookeeper", zk, "--topic", "once")
    assert code == 1 and out == ""
    assert err.startswith("Command must include exactly one action: --list, --describe, --create, --alter or --delete\n")
    assert "--replication-factor <Integer: replication factor>" in err
    code, _, err = tool("kafka-topics.sh", "--zookeeper", zk, "--create", "--topic", "x", "--partitions", "1")
    assert code == 1 and err.startswith('Missing required argument "[replication-factor]"\n')
    code, _, err = tool("kafka-topics.sh", "--zookeepr", zk, "--list")
    assert code == 1 and err.startswith("zookeepr is not a recognized option\n")

    # An unreachable ensemble: one error line and exit 1, not a hang.
    started = time.time()
    code, out, _ = tool("kafka-topics.sh", "--zookeeper", "127.0.0.1:1", "--list")
    assert code == 1 and out.startswith("Error while executing topic command : ") and len(out.splitlines()) == 1
    assert time.time() - started < 45


def bootstrap(cluster):
    return ",".join(f"127.0.0.1:{b.port}" for b in cluster[:2])


def test_kafka_topics_bootstrap_server_and_zookeeper_see_the_same_topics(cluster, zk_connect, zk_root):
    zk, servers = zookeeper(cluster, zk_connect), bootstrap(cluster)
    # Seed 000, verbatim but for the hosts.
    code, out, err = tool("kafka-topics.sh", "--bootstrap-server", servers, "--create", "--topic", "test02", "--partitions", "4",
                          "--replication-factor", "2")
    assert (code, out, err) == (0, "Created topic test02.\n", "")
    assert tool("kafka-topics.sh", "--zookeeper", zk, "--create", "--topic", "viazk", "--partitions", "2",
                "--replication-factor", "3", "--config", "retention.ms=60000")[0] == 0
    await_condition("every partition has a leader", lambda: all(
        state(zk_root, cluster[0], t, p)["leader"] in (1, 2, 3) for t, n in (("test02", 4), ("viazk", 2)) for p in range(n)))

    assert tool("kafka-topics.sh", "--bootstrap-server", servers, "--list") == (0, "test02\nviazk\n", "")
    assert tool("kafka-topics.sh", "--zookeeper", zk, "--list") == (0, "test02\nviazk\n", "")

    # The partition lines agree between the two paths, for a topic made by either.
    for topic in ("test02", "viazk"):
        _, by_zk, _ = tool("kafka-topics.sh", "--zookeeper", zk, "--describe", "--topic", topic)
        code, by_admin, _ = tool("kafka-topics.sh", "--bootstrap-server", servers, "--describe", "--topic", topic)
        assert code == 0
        assert by_admin.splitlines()[1:] == by_zk.splitlines()[1:]
        summary = by_admin.splitlines()[0].split("\t")
        assert summary[0] == f"Topic: {topic}" and summary[1].startswith("TopicId: ") and len(summary[1]) == len("TopicId: ") + 22
    assert "retention.ms=60000" in tool("kafka-topics.sh", "--bootstrap-server", servers, "--describe", "--topic", "viazk")[1].splitlines()[0]

    # Seed 000's alter; shrinking and a too large replication factor are one error line and exit 1.
    assert tool("kafka-topics.sh", "--bootstrap-server", servers, "--alter", "--topic", "test02", "--partitions", "10") == (0, "", "")
    await_condition("the new partitions get leaders", lambda: state(zk_root, cluster[0], "test02", 9)["leader"] in (1, 2, 3))
    code, out, _ = tool("kafka-topics.sh", "--bootstrap-server", servers, "--alter", "--topic", "test02", "--partitions", "3")
    assert (code, out) == (1, "Error while executing topic command : Topic currently has 10 partitions, which is higher than the requested 3.\n")
    code, out, _ = tool("kafka-topics.sh", "--bootstrap-server", servers, "--create", "--topic", "wide", "--partitions", "1",
                        "--replication-factor", "4")
    assert (code, out) == (1, "Error while executing topic command : Replication factor: 4 larger than available brokers: 3.\n")
    code, out, _ = tool("kafka-topics.sh", "--bootstrap-server", servers, "--describe", "--topic", "missing")
    assert (code, out) == (1, "Error while executing topic command : Topic 'missing' does not exist as expected\n")

    assert tool("kafka-topics.sh", "--bootstrap-server", servers, "--delete", "--topic", "viazk") == (0, "", "")
    await_condition("the topic is gone", lambda: tool("kafka-topics.sh", "--zookeeper", zk, "--list")[1] == "test02\n")

    started = time.time()
    code, out, _ = tool("kafka-topics.sh", "--bootstrap-server", "127.0.0.1:1", "--list")
    assert code == 1 and out.startswith("Error while executing topic command : ") and len(out.splitlines()) == 1
    assert time.time() - started < 45


def pipe(name, stdin, *args):
    result = subprocess.run(["bash", str(SCRIPTS / name), *args], input=stdin, capture_output=True, text=True, timeout=90)
    return result.returncode, result.stdout, result.stderr


def test_console_producer_to_console_consumer_with_keys_groups_and_codecs(cluster):
    servers = bootstrap(cluster)
    assert tool("kafka-topics.sh", "--bootstrap-server", servers, "--create", "--topic", "lines", "--partitions", "3",
                "--replication-factor", "2")[0] == 0
    lines = [f"key{i % 7}:value {i}" for i in range(60)]
    # Seed 004 writes `-topic`; seed 002 `--broker-list`.
    code, out, err = pipe("kafka-console-producer.sh", "\n".join(lines[:30]) + "\n", "--broker-list", servers, "-topic", "lines",
                          "--property", "parse.key=true", "--property", "key.separator=:")
    assert (code, err) == (0, "")
    code, _, err = pipe("kafka-console-producer.sh", "\n".join(lines[30:]) + "\n", "--bootstrap-server", servers, "--topic", "lines",
                        "--property", "parse.key=true", "--property", "key.separator=:", "--compression-codec", "lz4",
                        "--producer-property", "acks=1")
    assert (code, err) == (0, "")

    # Keys are partitioned as the Java client does (murmur2): kafka-python's partitioner agrees with where they landed.
    from kafka.partitioner.default import murmur2
    code, out, err = tool("kafka-console-consumer.sh", "--bootstrap-server", servers, "--topic", "lines", "--from-beginning",
                          "--max-messages", "60", "--property", "print.key=true", "--property", "print.partition=true",
                          "--property", "print.offset=true")
    assert code == 0 and err.splitlines()[-1] == "Processed a total of 60 messages"
    seen = [line.split("\t") for line in out.splitlines()]
    assert sorted(f"{key}:{value}" for _, _, key, value in seen) == sorted(lines)
    for partition, _, key, _ in seen:
        assert int(partition.removeprefix("Partition:")) == (murmur2(key.encode()) & 0x7FFFFFFF) % 3
    # Offsets are per partition, consecutive from 0 in the order each partition's records were sent.
    for p in range(3):
        offsets = [int(offset.removeprefix("Offset:")) for partition, offset, _, _ in seen if partition == f"Partition:{p}"]
        assert sorted(offsets) == list(range(len(offsets)))

    # One group read in two runs sees every record exactly once: --max-messages commits where it stopped.
    first = tool("kafka-console-consumer.sh", "--bootstrap-server", servers, "--topic", "lines", "--from-beginning",
                 "--group", "g_01", "--max-messages", "25")
    second = tool("kafka-console-consumer.sh", "--bootstrap-server", servers, "--topic", "lines", "--group", "g_01",
                  "--max-messages", "35", "--timeout-ms", "20000")
    assert first[0] == 0 and second[0] == 0, (first, second)
    assert sorted(first[1].splitlines() + second[1].splitlines()) == sorted(line.split(":", 1)[1] for line in lines)
    third = tool("kafka-console-consumer.sh", "--bootstrap-server", servers, "--topic", "lines", "--group", "g_01",
                 "--timeout-ms", "5000")
    assert third[0] == 0 and third[1] == "" and third[2].splitlines()[-1] == "Processed a total of 0 messages"

    # One partition from an offset.
    code, out, _ = tool("kafka-console-consumer.sh", "--bootstrap-server", servers, "--topic", "lines", "--partition", "0",
                        "--offset", "2", "--max-messages", "1", "--property", "print.offset=true")
    assert code == 0 and out.startswith("Offset:2\t")

    # kafka-get-offsets: the log end of each partition adds up to what was sent.
    code, out, _ = tool("kafka-get-offsets.sh", "--bootstrap-server", servers, "--topic", "lines")
    assert code == 0 and [line.split(":")[:2] for line in out.splitlines()] == [["lines", str(p)] for p in range(3)]
    assert sum(int(line.split(":")[2]) for line in out.splitlines()) == 60
    assert tool("kafka-get-offsets.sh", "--bootstrap-server", servers, "--topic", "lines", "--time", "-2")[1] == \
        "lines:0:0\nlines:1:0\nlines:2:0\n"


def test_console_tools_fail_with_one_clear_line(cluster):
    servers = bootstrap(cluster)
    code, out, err = pipe("kafka-console-producer.sh", "x\n", "--bootstrap-server", "127.0.0.1:1", "--topic", "t")
    assert code == 1 and out == "" and len(err.splitlines()) == 1 and "Error when sending message to topic t" in err
    code, _, err = tool("kafka-console-consumer.sh", "--bootstrap-server", servers, "--topic", "absent", "--partition", "0")
    assert code == 1 and "absent" in err and err.splitlines()[-1] == "Processed a total of 0 messages"
    code, _, err = tool("kafka-console-producer.sh", "--topic", "t")
    assert code == 1 and err.startswith("Missing required option(s) [bootstrap-server]\n")
    code, _, err = tool("kafka-console-consumer.sh", "--bootstrap-server", servers)
    assert code == 1 and err.startswith("Exactly one of whitelist/topic is required.\n")
    code, out, _ = tool("kafka-get-offsets.sh", "--bootstrap-server", servers, "--topic", "absent")
    assert (code, out) == (1, "Error occurred: Could not match any topic-partitions with the specified filters\n")


def test_kafka_consumer_groups_lists_describes_resets_and_deletes(cluster, zk_connect):
    from confluent_kafka import Consumer, TopicPartition as TP
    from test_balanced_consumers import ConsoleConsumer
    from test_groups import create_topic, produce
    servers = bootstrap(cluster)
    create_topic(cluster, "cg-t", 6)
    produce(cluster, "cg-t", 60, 6)
    consumers = [Consumer({"bootstrap.servers": servers, "group.id": "g_01", "auto.offset.reset": "earliest",
                           "enable.auto.commit": False, "client.id": f"client-{i}"}) for i in range(2)]
    for consumer in consumers:
        consumer.subscribe(["cg-t"])
    seen = 0
    deadline = time.time() + 60
    while (seen < 60 or any(len(c.assignment()) != 3 for c in consumers)) and time.time() < deadline:
        for consumer in consumers:
            message = consumer.poll(0.2)
            if message is not None and message.error() is None:
                seen += 1
    assert seen == 60 and all(len(c.assignment()) == 3 for c in consumers)
    for consumer in consumers:
        consumer.commit(asynchronous=False)
    try:
        # Seed 000's line.
        code, out, err = tool("kafka-consumer-groups.sh", "--bootstrap-server", servers, "--group", "g_01", "--members", "--describe")
        assert code == 0, err
        lines = out.splitlines()
        assert lines[0] == "" and lines[1].split() == ["GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS"]
        rows = sorted(line.split() for line in lines[2:])
        assert [(r[0], r[2], r[3], r[4]) for r in rows] == [("g_01", "/127.0.0.1", "client-0", "3"), ("g_01", "/127.0.0.1", "client-1", "3")]
        member_ids = {r[1] for r in rows}

        code, out, err = tool("kafka-consumer-groups.sh", "--bootstrap-server", servers, "--describe", "--group", "g_01")
        assert code == 0 and err == ""
        lines = out.splitlines()
        assert lines[1].split() == ["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"]
        rows = [line.split() for line in lines[2:]]
        assert sorted(int(r[2]) for r in rows) == list(range(6))
        assert all(r[0] == "g_01" and r[1] == "cg-t" and r[3:6] == ["10", "10", "0"] and r[6] in member_ids for r in rows)
        # Columns line up under the header (Kafka's %-Ns format).
        assert all(line.index("cg-t") == lines[1].index("TOPIC") for line in lines[2:])

        code, out, err = tool("kafka-consumer-groups.sh", "--bootstrap-server", servers, "--describe", "--group", "g_01", "--state")
        assert out.splitlines()[1].split() == ["GROUP", "COORDINATOR", "(ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS"]
        fields = out.splitlines()[2].split()
        assert fields[0] == "g_01" and fields[-3:] == ["range", "Stable", "2"]

        code, out, err = tool("kafka-consumer-groups.sh", "--bootstrap-server", servers, "--list")
        assert code == 0 and "g_01" in out.split()
        code, out, err = tool("kafka-consumer-groups.sh", "--bootstrap-server", servers, "--list", "--state", "stable")
        assert out.splitlines()[0].split() == ["GROUP", "STATE"] and ["g_01", "Stable"] in [l.split() for l in out.splitlines()]

        code, out, err = tool("kafka-consumer-groups.sh", "--bootstrap-server", servers, "--reset-offsets", "--group", "g_01", "--all-topics", "--to-earliest", "--execute")
        assert "Error: Assignments can only be reset if the group 'g_01' is inactive, but the current state is Stable." in out
    finally:
        for consumer in consumers:
            consumer.close()

    code, out, err = tool("kafka-consumer-groups.sh", "--bootstrap-server", servers, "--describe", "--group", "g_01")
    assert "Consumer group 'g_01' has no active members." in err
    assert all(line.split()[6:] == ["-", "-", "-"] for line in out.splitlines()[2:])

    code, out, err = tool("kafka-consumer-groups.sh", "--bootstrap-server", servers, "--reset-offsets", "--group", "g_01", "--topic", "cg-t:0,1", "--shift-by", "-4", "--dry-run")
    assert code == 0 and [l.split() for l in out.splitlines()[1:]] == [["GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"], ["g_01", "cg-t", "0", "6"], ["g_01", "cg-t", "1", "6"]]
    code, out, err = tool("kafka-consumer-groups.sh", "--bootstrap-server", servers, "--reset-offsets", "--group", "g_01", "--all-topics", "--to-offset", "99", "--execute")
    assert "New offset (99) is higher than latest offset for topic partition cg-t-0. Value will be set to 10" in out
    code, out, err = tool("kafka-consumer-groups.sh", "--bootstrap-server", servers, "--reset-offsets", "--group", "g_01", "--all-topics", "--to-earliest", "--execute")
    assert sorted(l.split()[3] for l in out.splitlines()[2:]) == ["0"] * 6
    check = Consumer({"bootstrap.servers": servers, "group.id": "g_01"})
    assert [p.offset for p in check.committed([TP("cg-t", p) for p in range(6)], timeout=20)] == [0] * 6
    check.close()
    code, out, err = tool("kafka-consumer-groups.sh", "--bootstrap-server", servers, "--describe", "--group", "g_01")
    assert sorted(line.split()[5] for line in out.splitlines()[2:]) == ["10"] * 6  # LAG

    code, out, err = tool("kafka-consumer-groups.sh", "--bootstrap-server", servers, "--delete", "--group", "g_01")
    assert (code, out) == (0, "Deletion of requested consumer groups ('g_01') was successful.\n")
    code, out, err = tool("kafka-consumer-groups.sh", "--bootstrap-server", servers, "--describe", "--group", "g_01")
    assert out == "\nError: Consumer group 'g_01' does not exist.\n"

    # A ZooKeeper-balanced group is described like any other: its member, partitions, offsets and lag.
    console = ConsoleConsumer("--zookeeper", zookeeper(cluster, zk_connect), "--topic", "cg-t", "--group", "zkg", "--from-beginning",
                              "--consumer-property", "auto.commit.interval.ms=200")
    try:
        await_condition("the console consumer printed every record", lambda: len(console.lines) == 60)
        code, out, err = tool("kafka-consumer-groups.sh", "--bootstrap-server", servers, "--describe", "--group", "zkg", "--members", "--verbose")
        rows = [line.split() for line in out.splitlines()[2:]]
        assert len(rows) == 1 and rows[0][0] == "zkg" and rows[0][1].startswith("zkg_") and rows[0][4] == "6"
        assert " ".join(rows[0][5:]) == "cg-t(0,1,2,3,4,5)"

        def lag_is_zero():
            code, out, err = tool("kafka-consumer-groups.sh", "--bootstrap-server", servers, "--describe", "--group", "zkg")
            rows = [line.split() for line in out.splitlines()[2:]]
            return len(rows) == 6 and all(r[3:6] == ["10", "10", "0"] and r[6].startswith("zkg_") for r in rows)
        await_condition("the ZooKeeper group's offsets are committed with no lag", lag_is_zero)
        code, out, err = tool("kafka-consumer-groups.sh", "--bootstrap-server", servers, "--delete", "--group", "zkg")
        assert "* Group 'zkg' could not be deleted due to: org.apache.kafka.common.errors.GroupNotEmptyException: The group is not empty." in out
    finally:
        console.stop()


def test_ferry_top_shows_leaders_log_ends_rates_and_group_lag(cluster, ferry_bin):
    from confluent_kafka import Consumer, TopicPartition as TP
    from test_groups import create_topic, produce
    servers = bootstrap(cluster)
    create_topic(cluster, "top-t", 3)
    produce(cluster, "top-t", 30, 3)
    committer = Consumer({"bootstrap.servers": servers, "group.id": "topg"})
    committer.commit(offsets=[TP("top-t", p, 4) for p in range(3)], asynchronous=False)
    committer.close()
    result = subprocess.run([ferry_bin, "top", "--bootstrap-server", servers, "--iterations", "2", "--interval", "300"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    frames = result.stdout.split("\n\nferry top")
    assert len(frames) == 2 and frames[0].startswith("ferry top — ") and "brokers: 1,2,3" in frames[0]
    last = [line.split() for line in frames[1].splitlines()]
    assert ["top-t", "*", "30", "0.0"] in last  # the topic's total log end; nothing produced between the frames
    partition_rows = [row for row in last if len(row) == 5 and row[0] in {"0", "1", "2"}]
    assert len(partition_rows) == 3 and all(row[3] == "10" and row[4] == "0.0" for row in partition_rows)
    assert all(row[1] == row[2] for row in partition_rows)  # RF 1: the leader is the ISR
    assert ["topg", "Empty", "0", "top-t", "12", "18", "0.0"] in last  # committed 3 x 4, lag 3 x 6


def test_kafka_configs_describes_and_alters_topic_and_broker_configs_through_zookeeper_and_the_brokers(cluster, zk_connect, zk_root):
    zk = zookeeper(cluster, zk_connect)
    bootstrap = f"127.0.0.1:{cluster[0].port}"
    assert tool("kafka-topics.sh", "--zookeeper", zk, "--create", "--topic", "settings", "--partitions", "1",
                "--replication-factor", "1")[0] == 0
    warning = ("Warning: --zookeeper is deprecated and will be removed in a future version of Kafka.\n"
               "Use --bootstrap-server instead to specify a broker to connect to.\n")

    # --zookeeper writes /config/topics/<t> and a change notification, as Kafka's AdminZkClient.
    code, out, err = tool("kafka-configs.sh", "--zookeeper", zk, "--entity-type", "topics", "--entity-name", "settings",
                          "--alter", "--add-config", "max.message.bytes=2000,cleanup.policy=[compact,delete]")
    assert (code, out, err) == (0, warning + "Completed updating config for entity: topic 'settings'.\n", "")
    stored = json.loads(zk_root.get(f"{cluster[0].chroot}/config/topics/settings")[0])
    assert stored == {"version": 1, "config": {"max.message.bytes": "2000", "cleanup.policy": "compact,delete"}}
    changes = zk_root.get_children(f"{cluster[0].chroot}/config/changes")
    assert any(json.loads(zk_root.get(f"{cluster[0].chroot}/config/changes/{c}")[0]).get("entity_path") == "topics/settings"
               for c in changes)
    code, out, _ = tool("kafka-configs.sh", "--zookeeper", zk, "--describe", "--entity-type", "topics", "--entity-name", "settings")
    assert (code, out) == (0, warning + "Configs for topic 'settings' are cleanup.policy=compact,delete,max.message.bytes=2000\n")

    # The brokers apply it: a record over 2000 bytes is refused.
    from confluent_kafka import KafkaException, Producer
    producer = Producer({"bootstrap.servers": bootstrap, "message.max.bytes": 100000, "retries": 0})
    failures = []
    await_condition("a 5000-byte record is refused as too large", lambda: (
        producer.produce("settings", value=b"x" * 5000, on_delivery=lambda err, msg: failures.append(err)),
        producer.flush(10), failures and failures[-1] is not None and failures[-1].name() == "MSG_SIZE_TOO_LARGE")[-1], timeout=30)

    # --bootstrap-server describes what --zookeeper wrote (dynamic configs only, unless --all), and alters it.
    code, out, _ = tool("kafka-configs.sh", "--bootstrap-server", bootstrap, "--describe", "--topic", "settings")
    assert code == 0
    assert out.splitlines() == [
        "Dynamic configs for topic settings are:",
        "  cleanup.policy=compact,delete sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:cleanup.policy=compact,delete, DEFAULT_CONFIG:log.cleanup.policy=delete}",
        "  max.message.bytes=2000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:max.message.bytes=2000, DEFAULT_CONFIG:message.max.bytes=1048588}",
    ]
    code, out, _ = tool("kafka-configs.sh", "--bootstrap-server", bootstrap, "--describe", "--topic", "settings", "--all")
    assert code == 0 and out.splitlines()[0] == "All configs for topic settings are:" and len(out.splitlines()) == 32
    assert "  retention.ms=604800000 sensitive=false synonyms={DEFAULT_CONFIG:log.retention.ms=604800000}" in out.splitlines()
    code, out, err = tool("kafka-configs.sh", "--bootstrap-server", bootstrap, "--alter", "--entity-type", "topics",
                          "--entity-name", "settings", "--add-config", "retention.ms=3600000", "--delete-config", "cleanup.policy")
    assert (code, out, err) == (0, "Completed updating config for topic settings.\n", "")
    code, out, _ = tool("kafka-configs.sh", "--zookeeper", zk, "--describe", "--entity-type", "topics")
    assert (code, out) == (0, warning + "Configs for topic 'settings' are max.message.bytes=2000,retention.ms=3600000\n")

    # Bad input: one clear line, exit 1, nothing written.
    for args, line in [
        (["--zookeeper", zk, "--alter", "--topic", "settings", "--add-config", "retention.ms=soon"],
         "Invalid config value for resource ConfigResource(type=TOPIC, name='settings'): Invalid value soon for configuration retention.ms: Not a number of type LONG"),
        (["--zookeeper", zk, "--alter", "--topic", "settings", "--delete-config", "segment.bytes"], "Invalid config(s): segment.bytes"),
        (["--bootstrap-server", bootstrap, "--alter", "--topic", "settings", "--delete-config", "segment.bytes"], "Invalid config(s): segment.bytes"),
        (["--zookeeper", zk, "--alter", "--topic", "settings", "--add-config", "retention.ms"],
         'Invalid entity config: all configs to be added must be in the format "key=val".'),
        (["--bootstrap-server", bootstrap, "--alter", "--topic", "settings", "--add-config", "retention.mss=1"],
         "Unknown topic config name: retention.mss"),
    ]:
        code, _, err = tool("kafka-configs.sh", *args)
        assert code == 1 and err.splitlines()[-1] == line, (args, err)
    code, _, err = tool("kafka-configs.sh", "--zookeeper", zk, "--alter", "--topic", "nosuch", "--add-config", "retention.ms=1")
    assert code == 1 and "Topic 'nosuch' does not exist." in err
    code, _, err = tool("kafka-configs.sh", "--zookeeper", zk, "--describe")
    assert code == 1 and err.splitlines()[0] == "At least one entity type must be specified"
    code, _, err = tool("kafka-configs.sh", "--bootstrap-server", bootstrap, "--zookeeper", zk, "--describe", "--topic", "settings")
    assert code == 1 and err.splitlines()[0] == "Only one of --bootstrap-server or --zookeeper must be specified"
    assert json.loads(zk_root.get(f"{cluster[0].chroot}/config/topics/settings")[0])["config"] == {
        "max.message.bytes": "2000", "retention.ms": "3600000"}

    # Brokers: their server.properties settings; nothing dynamic yet (test_dynamic_broker_configs_... alters them).
    code, out, _ = tool("kafka-configs.sh", "--bootstrap-server", bootstrap, "--describe", "--broker", "1", "--all")
    assert code == 0 and out.splitlines()[0] == "All configs for broker 1 are:"
    assert "  broker.id=1 sensitive=false synonyms={STATIC_BROKER_CONFIG:broker.id=1, DEFAULT_CONFIG:broker.id=-1}" in out.splitlines()
    code, out, _ = tool("kafka-configs.sh", "--bootstrap-server", bootstrap, "--describe", "--entity-type", "brokers")
    assert (code, out) == (0, "Dynamic configs for broker 1 are:\nDynamic configs for broker 2 are:\nDynamic configs for broker 3 are:\n"
                              "Default configs for brokers in the cluster are:\n")
    code, out, _ = tool("kafka-configs.sh", "--zookeeper", zk, "--describe", "--entity-type", "brokers", "--entity-name", "2")
    assert (code, out) == (0, warning + "Configs for brokers '2' are \n")
    code, _, err = tool("kafka-configs.sh", "--zookeeper", zk, "--alter", "--entity-type", "brokers", "--entity-name", "2",
                        "--add-config", "log.retention.ms=1000")
    assert code == 1 and err.startswith("--bootstrap-server option must be specified to update broker configs Set(log.retention.ms). when broker 2 is running.")


def test_dynamic_broker_configs_apply_at_once_per_broker_and_cluster_wide_and_survive_a_restart(cluster, zk_connect, zk_root):
    from confluent_kafka import Producer
    zk = zookeeper(cluster, zk_connect)
    bootstrap = f"127.0.0.1:{cluster[0].port}"
    root = cluster[0].chroot
    assert tool("kafka-topics.sh", "--zookeeper", zk, "--create", "--topic", "dyn", "--replica-assignment", "1")[0] == 0
    producer = Producer({"bootstrap.servers": bootstrap, "message.max.bytes": 100000, "retries": 0})

    def send(size):
        """The error name of producing one record of `size` bytes to dyn (led by broker 1), or None."""
        outcome = []
        producer.produce("dyn", value=b"x" * size, on_delivery=lambda err, msg: outcome.append(err))
        producer.flush(10)
        return outcome[0].name() if outcome and outcome[0] is not None else None

    def configs(*args):
        code, out, err = tool("kafka-configs.sh", *args)
        assert code == 0, err
        return out

    await_condition("the topic takes records", lambda: send(5000) is None)

    # The cluster-wide default: /config/brokers/<default> with a change notification; every broker applies it at once.
    assert configs("--bootstrap-server", bootstrap, "--alter", "--entity-type", "brokers", "--entity-default",
                   "--add-config", "message.max.bytes=2000") == "Completed updating default config for brokers in the cluster.\n"
    assert json.loads(zk_root.get(f"{root}/config/brokers/<default>")[0]) == {"version": 1, "config": {"message.max.bytes": "2000"}}
    notices = [json.loads(zk_root.get(f"{root}/config/changes/{c}")[0]) for c in zk_root.get_children(f"{root}/config/changes")]
    assert {"version": 2, "entity_path": "brokers/<default>"} in notices
    await_condition("a 5000-byte record is refused under the new default", lambda: send(5000) == "MSG_SIZE_TOO_LARGE")
    assert configs("--bootstrap-server", bootstrap, "--describe", "--entity-type", "brokers", "--entity-default").splitlines() == [
        "Default configs for brokers in the cluster are:",
        "  message.max.bytes=2000 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:message.max.bytes=2000}"]

    # One broker's own value wins over the default, on that broker only; the log defaults change for its logs too.
    assert configs("--bootstrap-server", bootstrap, "--alter", "--entity-type", "brokers", "--entity-name", "1", "--add-config",
                   "message.max.bytes=100000,log.segment.bytes=8192") == "Completed updating config for broker 1.\n"
    assert json.loads(zk_root.get(f"{root}/config/brokers/1")[0])["config"] == {"message.max.bytes": "100000", "log.segment.bytes": "8192"}
    await_condition("broker 1 takes 5000-byte records again", lambda: send(5000) is None)
    assert configs("--bootstrap-server", bootstrap, "--describe", "--entity-type", "brokers", "--entity-name", "1").splitlines() == [
        "Dynamic configs for broker 1 are:",
        "  log.segment.bytes=8192 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:log.segment.bytes=8192, DEFAULT_CONFIG:log.segment.bytes=1073741824}",
        "  message.max.bytes=100000 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:message.max.bytes=100000, "
        "DYNAMIC_DEFAULT_BROKER_CONFIG:message.max.bytes=2000, DEFAULT_CONFIG:message.max.bytes=1048588}"]
    for _ in range(6):
        assert send(3000) is None
    segments = sorted((cluster[0].log_dir / "dyn-0").glob("*.log"))
    assert len(segments) >= 3, segments  # 8 KiB segments: two such records each
    other = configs("--bootstrap-server", f"127.0.0.1:{cluster[1].port}", "--describe", "--broker", "2", "--all")
    assert "  message.max.bytes=2000 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:message.max.bytes=2000, " \
           "DEFAULT_CONFIG:message.max.bytes=1048588}" in other.splitlines()

    # Bad input: one clear line, exit 1, nothing written.
    for args, message in [
        (["--entity-name", "1", "--add-config", "num.partitions=3"], "Cannot update these configs dynamically: Set(num.partitions)"),
        (["--entity-name", "1", "--add-config", "message.max.bytes=lots"],
         "Invalid value lots for configuration message.max.bytes: Not a number of type INT"),
        (["--entity-default", "--delete-config", "log.retention.ms"], "Invalid config(s): log.retention.ms"),
    ]:
        code, _, err = tool("kafka-configs.sh", "--bootstrap-server", bootstrap, "--alter", "--entity-type", "brokers", *args)
        assert code == 1 and message in err, (args, err)
    assert json.loads(zk_root.get(f"{root}/config/brokers/1")[0])["config"] == {"message.max.bytes": "100000", "log.segment.bytes": "8192"}

    # Through ZooKeeper only while the broker is down (Kafka's bootstrapping path); the broker reads it when it starts.
    code, _, err = tool("kafka-configs.sh", "--zookeeper", zk, "--alter", "--entity-type", "brokers", "--entity-default",
                        "--add-config", "log.retention.ms=1000")
    assert code == 1 and "Set(log.retention.ms). for default cluster if any broker is running." in err
    assert cluster[0].stop() == 0
    code, out, err = tool("kafka-configs.sh", "--zookeeper", zk, "--alter", "--entity-type", "brokers", "--entity-name", "1",
                          "--add-config", "log.retention.ms=3600000")
    assert code == 0 and out.endswith("Completed updating config for entity: brokers '1'.\n"), err
    cluster[0].restart()
    dynamic = configs("--bootstrap-server", bootstrap, "--describe", "--broker", "1").splitlines()
    assert dynamic[0] == "Dynamic configs for broker 1 are:" and len(dynamic) == 4
    assert any(line.startswith("  log.retention.ms=3600000 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:log.retention.ms=3600000") for line in dynamic)
    await_condition("broker 1 still takes 5000-byte records after its restart", lambda: send(5000) is None)

    # Deleting the broker's value falls back to the cluster default; deleting that, to server.properties.
    assert configs("--bootstrap-server", bootstrap, "--alter", "--broker", "1", "--delete-config", "message.max.bytes") == \
        "Completed updating config for broker 1.\n"
    await_condition("broker 1 falls back to the 2000-byte default", lambda: send(5000) == "MSG_SIZE_TOO_LARGE")
    assert configs("--bootstrap-server", bootstrap, "--alter", "--broker-defaults", "--delete-config", "message.max.bytes") == \
        "Completed updating default config for brokers in the cluster.\n"
    await_condition("broker 1 falls back to server.properties", lambda: send(5000) is None)
    assert json.loads(zk_root.get(f"{root}/config/brokers/<default>")[0])["config"] == {}


def test_kafka_log_dirs_describes_every_brokers_directories_and_replica_sizes(cluster, zk_connect):
    from test_groups import bootstrap, create_topic, produce
    create_topic(cluster, "sized", 3, replication_factor=2)
    create_topic(cluster, "other", 1)
    produce(cluster, "sized", 30, 3)

    def describe(*extra):
        code, out, err = tool("kafka-log-dirs.sh", "--bootstrap-server", bootstrap(cluster), "--describe", *extra)
        assert code == 0, err
        lines = out.splitlines()
        assert lines[:1] == ["Querying brokers for log directories information"] and len(lines) == 3
        return lines[1], json.loads(lines[2])

    def replica_sizes(report):
        sizes = {}
        for broker in report["brokers"]:
            for directory in broker["logDirs"]:
                for replica in directory["partitions"]:
                    sizes.setdefault(replica["partition"], []).append(replica["size"])
        return sizes

    # Followers catch up: every replica of a partition ends the same size, and each holds 10 records' worth.
    await_condition("both replicas of each partition are the same size", lambda: all(
        len(s) == 2 and s[0] == s[1] > 0 for p, s in replica_sizes(describe("--topic-list", "sized")[1]).items()) and
        len(replica_sizes(describe("--topic-list", "sized")[1])) == 3)
    received, report = describe()
    assert received == "Received log directory information from brokers 1,2,3"
    assert report["version"] == 1 and [b["broker"] for b in report["brokers"]] == [1, 2, 3]
    for broker, process in zip(report["brokers"], cluster):
        assert [d["logDir"] for d in broker["logDirs"]] == [str(process.log_dir)]
        assert broker["logDirs"][0]["error"] is None
        for replica in broker["logDirs"][0]["partitions"]:
            assert replica["offsetLag"] == 0 and replica["isFuture"] is False
            directory = process.log_dir / replica["partition"]
            assert replica["size"] == sum(f.stat().st_size for f in directory.glob("*.log"))
    sizes = replica_sizes(report)
    assert sorted(p for p in sizes if p.startswith("sized-")) == ["sized-0", "sized-1", "sized-2"]
    assert len(sizes["other-0"]) == 1 and sizes["other-0"][0] == 0, sizes

    received, report = describe("--broker-list", "2", "--topic-list", "other")
    assert received == "Received log directory information from brokers 2"
    assert [b["broker"] for b in report["brokers"]] == [2]
    assert all(r["partition"] == "other-0" for d in report["brokers"][0]["logDirs"] for r in d["partitions"])

    code, _, err = tool("kafka-log-dirs.sh", "--bootstrap-server", bootstrap(cluster))
    assert code == 1 and err.splitlines()[0] == 'Missing required argument "[describe]"'


def test_consumer_perf_test_and_the_end_to_end_latency_tool_report_as_kafkas_do(cluster):
    import re
    from test_groups import bootstrap, create_topic, produce
    create_topic(cluster, "perf", 3)
    produce(cluster, "perf", 3000, 3, prefix="p" * 94)  # 100-byte values up to record-999, more after

    code, out, err = tool("kafka-consumer-perf-test.sh", "--bootstrap-server", bootstrap(cluster), "--topic", "perf",
                          "--messages", "3000", "--timeout", "20000")
    assert code == 0, err
    header, row = out.splitlines()
    assert header == ("start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, "
                      "fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec")
    fields = row.split(", ")
    date = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3}"
    assert re.fullmatch(date, fields[0]) and re.fullmatch(date, fields[1])
    value_bytes = sum(len(f"{'p' * 94}-{i}") for i in range(3000))
    assert fields[2] == f"{value_bytes / 1048576:.4f}" and fields[4] == "3000"
    rebalance_ms, fetch_ms = int(fields[6]), int(fields[7])
    assert rebalance_ms >= 0 and fetch_ms > 0 and float(fields[9]) > 0

    # Fewer records than asked for: Kafka's warning after --timeout, then the row of what was read. (The timeout
    # outlasts the group's first join, which waits out group.initial.rebalance.delay.ms, 3 s.)
    code, out, _ = tool("kafka-consumer-perf-test.sh", "--bootstrap-server", bootstrap(cluster), "--topic", "perf",
                        "--messages", "5000", "--timeout", "5000", "--hide-header", "--group", "perf-short")
    lines = out.splitlines()
    assert code == 0 and lines[0] == ("WARNING: Exiting before consuming the expected number of messages: timeout (5000 ms) "
                                      "exceeded. You can use the --timeout option to increase the timeout.")
    assert lines[1].split(", ")[4] == "3000" and len(lines) == 2
    code, _, err = tool("kafka-consumer-perf-test.sh", "--bootstrap-server", bootstrap(cluster), "--topic", "perf")
    assert code == 1 and err.splitlines()[0] == 'Missing required argument "[messages]"'

    # End-to-end latency, by Kafka 3.x's script and by the class name of Kafka 2.8's.
    for script, prefix in (("kafka-e2e-latency.sh", []), ("kafka-run-class.sh", ["kafka.tools.EndToEndLatency"])):
        code, out, err = tool(script, *prefix, bootstrap(cluster), "latency", "200", "all", "100")
        assert code == 0, err
        lines = out.splitlines()
        assert lines[0] in ('Topic "latency" does not exist. Will create topic with 1 partition(s) and replication factor = 1', "0\t" + lines[0][2:])
        progress = [line for line in lines if "\t" in line]
        assert len(progress) == 1 and re.fullmatch(r"0\t\d+\.\d+", progress[0])
        assert re.fullmatch(r"Avg latency: \d+\.\d{4} ms", lines[-3]) and lines[-2] == ""
        p50, p99, p999 = map(int, re.fullmatch(r"Percentiles: 50th = (\d+), 99th = (\d+), 99\.9th = (\d+)", lines[-1]).groups())
        assert p50 <= p99 <= p999
    code, _, err = tool("kafka-e2e-latency.sh", bootstrap(cluster), "latency", "10", "0", "100")
    assert code == 1 and err.strip() == "Latency testing requires synchronous acknowledgement. Please use 1 or all"
    code, _, err = tool("kafka-run-class.sh", "kafka.tools.MirrorMaker")
    assert code == 1 and err.strip() == "kafka-run-class.sh: Ferry has no tool for class kafka.tools.MirrorMaker"

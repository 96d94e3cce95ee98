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

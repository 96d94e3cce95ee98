"""ZooKeeper-balanced consumer groups (issue #8, item 3): `kafka-console-consumer.sh --zookeeper` as Kafka's old
consumer, alone and in one group with pykafka's BalancedConsumer, against a real 3-broker cluster."""
import json
import pathlib
import signal
import subprocess
import threading
import time

from conftest import await_condition
from test_groups import create_topic, produce
from test_tools import SCRIPTS, tool, zookeeper


class ConsoleConsumer:
    """A `kafka-console-consumer.sh --zookeeper ...` process whose printed lines are collected as they come."""

    def __init__(self, *args):
        self.process = subprocess.Popen(["bash", str(SCRIPTS / "kafka-console-consumer.sh"), *args],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.errors = []
        self._readers = [threading.Thread(target=self._read, args=(self.process.stdout, self.lines), daemon=True),
                         threading.Thread(target=self._read, args=(self.process.stderr, self.errors), daemon=True)]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream, into):
        for line in stream:
            into.append(line.rstrip("\n"))

    @property
    def stderr(self):
        return "\n".join(self.errors)

    def stop(self, sig=signal.SIGTERM):
        self.process.send_signal(sig)
        self.process.wait(timeout=30)
        for reader in self._readers:
            reader.join(timeout=10)
        return self.process.returncode


def owners(zk_root, chroot, group, topic):
    """Owner node name → owner string, for the group's claims on `topic`. pykafka 2.8 on Python 3 claims under
    `owners/b'<topic>'` (it formats the topic's bytes into the path); a claim there counts too, and the two
    directories must never name different owners for one node."""
    result = {}
    for directory in (topic, f"b'{topic}'"):
        path = f"{chroot}/consumers/{group}/owners/{directory}"
        if not zk_root.exists(path):
            continue
        for name in zk_root.get_children(path):
            data = zk_root.exists(f"{path}/{name}") and zk_root.get(f"{path}/{name}")[0]
            if data:
                assert result.setdefault(name, data.decode()) == data.decode(), f"{name} is claimed by two owners"
    return result


def members(zk_root, chroot, group):
    path = f"{chroot}/consumers/{group}/ids"
    return {name: zk_root.get(f"{path}/{name}")[0] for name in zk_root.get_children(path)} if zk_root.exists(path) else {}


def test_zookeeper_console_consumers_split_a_topic_and_take_over_on_leave(cluster, zk_connect, zk_root):
    chroot = cluster[0].chroot
    zk = zookeeper(cluster, zk_connect)
    create_topic(cluster, "zksplit", 4)
    first = ConsoleConsumer("--zookeeper", zk, "--topic", "zksplit", "--group", "zg", "--from-beginning")
    await_condition("the first member owns every partition", lambda: len(owners(zk_root, chroot, "zg", "zksplit")) == 4)
    second = ConsoleConsumer("--zookeeper", zk, "--topic", "zksplit", "--group", "zg")
    try:
        await_condition("two members own two partitions each", lambda: sorted(
            list(owners(zk_root, chroot, "zg", "zksplit").values()).count(o) for o in set(owners(zk_root, chroot, "zg", "zksplit").values())) == [2, 2])
        # Kafka's layout: the subscription JSON, owners named by partition holding the thread id `<consumerId>-0`.
        registered = members(zk_root, chroot, "zg")
        assert len(registered) == 2
        for consumer_id, data in registered.items():
            assert consumer_id.startswith("zg_")
            payload = json.loads(data)
            assert payload["version"] == 1 and payload["subscription"] == {"zksplit": 1} and payload["pattern"] == "static"
        claims = owners(zk_root, chroot, "zg", "zksplit")
        assert sorted(claims) == ["0", "1", "2", "3"]
        assert set(claims.values()) == {f"{consumer_id}-0" for consumer_id in registered}
        # Kafka's range split: the first thread in string order takes partitions 0 and 1.
        first_thread = min(claims.values())
        assert claims["0"] == claims["1"] == first_thread

        expected = produce(cluster, "zksplit", 40, 4)
        await_condition("the group prints every record", lambda: set(first.lines) | set(second.lines) == expected)
        assert not set(first.lines) & set(second.lines), "a record went to both members of one group"
        assert len(first.lines) == len(second.lines) == 20

        assert second.stop() == 0
        assert "Processed a total of 20 messages" in second.stderr
        await_condition("the remaining member takes every partition", lambda: len(set(owners(zk_root, chroot, "zg", "zksplit").values())) == 1
                        and len(owners(zk_root, chroot, "zg", "zksplit")) == 4)
        later = produce(cluster, "zksplit", 20, 4, prefix="later")
        await_condition("the remaining member prints the new records", lambda: len(first.lines) == 40)
        assert set(first.lines[20:]) == later
    finally:
        for consumer in (first, second):
            if consumer.process.poll() is None:
                consumer.stop()
    # Committed at exit, as decimal text; the members and their claims are gone.
    offsets = sum(int(zk_root.get(f"{chroot}/consumers/zg/offsets/zksplit/{p}")[0]) for p in range(4))
    assert offsets == 60
    assert members(zk_root, chroot, "zg") == {} and owners(zk_root, chroot, "zg", "zksplit") == {}


def test_a_random_group_is_removed_at_exit_and_a_named_one_refuses_from_beginning_over_offsets(cluster, zk_connect, zk_root):
    chroot = cluster[0].chroot
    zk = zookeeper(cluster, zk_connect)
    create_topic(cluster, "zkonce", 2)
    produce(cluster, "zkonce", 10, 2)
    code, out, err = tool("kafka-console-consumer.sh", "--zookeeper", zk, "--topic", "zkonce", "--from-beginning", "--max-messages", "10")
    assert code == 0, err
    assert sorted(out.split()) == sorted(f"record-{i}" for i in range(10))
    assert "Using the ConsoleConsumer with old consumer is deprecated" in err and "Processed a total of 10 messages" in err
    assert not [g for g in zk_root.get_children(f"{chroot}/consumers") if g.startswith("console-consumer-")]

    code, out, err = tool("kafka-console-consumer.sh", "--zookeeper", zk, "--topic", "zkonce", "--group", "named", "--from-beginning", "--max-messages", "4")
    assert code == 0, err
    assert sum(int(zk_root.get(f"{chroot}/consumers/named/offsets/zkonce/{p}")[0]) for p in range(2)) == 4
    code, out, err = tool("kafka-console-consumer.sh", "--zookeeper", zk, "--topic", "zkonce", "--group", "named", "--from-beginning")
    assert code == 1 and out == ""
    assert "Found previous offset information for this group named. Please use --delete-consumer-offsets to delete previous offsets metadata" in err
    # Without --from-beginning the group goes on from its offsets: the six records it has not read.
    code, out, err = tool("kafka-console-consumer.sh", "--zookeeper", zk, "--topic", "zkonce", "--group", "named", "--max-messages", "6")
    assert code == 0, err
    assert len(out.split()) == 6 and "Processed a total of 6 messages" in err
    # Old and new options do not mix.
    code, out, err = tool("kafka-console-consumer.sh", "--zookeeper", zk, "--bootstrap-server", f"127.0.0.1:{cluster[0].port}", "--topic", "zkonce")
    assert code == 1 and err.startswith("Option [bootstrap-server] is not valid with [zookeeper].")


def test_pykafka_balanced_consumer_and_the_zookeeper_console_consumer_share_a_group(cluster, zk_connect, zk_root):
    from pykafka import KafkaClient
    from pykafka.common import OffsetType
    chroot = cluster[0].chroot
    zk = zookeeper(cluster, zk_connect)
    create_topic(cluster, "mixed", 4)
    console = ConsoleConsumer("--zookeeper", zk, "--topic", "mixed", "--group", "mixedg", "--from-beginning",
                              "--consumer-property", "auto.commit.interval.ms=200", "--consumer-property", "rebalance.backoff.ms=500")
    client = KafkaClient(zookeeper_hosts=zk)
    pykafka_consumers = []
    received = []
    stop_reading = threading.Event()

    def start_pykafka():
        consumer = client.topics["mixed"].get_balanced_consumer(
            consumer_group=b"mixedg", zookeeper_connect=zk, auto_offset_reset=OffsetType.EARLIEST,
            auto_commit_enable=True, auto_commit_interval_ms=200, consumer_timeout_ms=200, rebalance_backoff_ms=500)
        pykafka_consumers.append(consumer)

        def read():
            while not stop_reading.is_set() and consumer._running:
                try:
                    message = consumer.consume(block=False)
                except Exception:
                    break
                if message is not None:
                    received.append(message.value.decode())
                else:
                    time.sleep(0.02)
        threading.Thread(target=read, daemon=True).start()
        return consumer

    history = []

    def split_between_two():
        claims = owners(zk_root, chroot, "mixedg", "mixed")
        if not history or history[-1][1] != claims:
            history.append((time.time(), claims))
        values = list(claims.values())
        return len(claims) == 4 and sorted(values.count(v) for v in set(values)) == [2, 2]

    try:
        await_condition("the console consumer owns every partition", lambda: len(owners(zk_root, chroot, "mixedg", "mixed")) == 4)
        first = start_pykafka()
        await_condition("pykafka and the console consumer own two partitions each", split_between_two, timeout=40)
        # pykafka's dialect: the console consumer registered with the bare topic name, owners named <leader>-<partition>.
        assert set(members(zk_root, chroot, "mixedg").values()) == {b"mixed"}
        claims = owners(zk_root, chroot, "mixedg", "mixed")
        assert {name.split("-")[1] for name in claims} == {"0", "1", "2", "3"}
        assert first._consumer_id.decode() in claims.values()

        expected = produce(cluster, "mixed", 40, 4, prefix="both")
        await_condition("the group receives every record", lambda: set(received) | set(console.lines) == expected, timeout=40)
        assert not set(received) & set(console.lines), "a record went to both members of one group"
        assert 0 < len(console.lines) < 40

        # pykafka leaves: the console consumer takes its partitions and reads on from pykafka's committed offsets.
        first.stop()
        await_condition("the console consumer owns every partition again", lambda: len(owners(zk_root, chroot, "mixedg", "mixed")) == 4
                        and len(set(owners(zk_root, chroot, "mixedg", "mixed").values())) == 1, timeout=40)
        printed = len(console.lines)
        alone = produce(cluster, "mixed", 20, 4, prefix="alone")
        await_condition("the console consumer prints the new records", lambda: alone <= set(console.lines), timeout=40)
        assert set(console.lines[printed:]) == alone, "records before pykafka's committed offsets were read again"

        # The console consumer dies without leaving: once its session expires a new pykafka member takes everything.
        received.clear()
        second = start_pykafka()
        await_condition("pykafka and the console consumer own two partitions each", split_between_two, timeout=40)
        time.sleep(0.5)  # let the console consumer's 200 ms auto-commit record its positions (not a synchronisation)
        console.stop(signal.SIGKILL)
        consumer_id = second._consumer_id.decode()
        await_condition("pykafka owns every partition after the session expiry", lambda: set(owners(zk_root, chroot, "mixedg", "mixed").values()) == {consumer_id}
                        and len(owners(zk_root, chroot, "mixedg", "mixed")) == 4, timeout=60)
        after = produce(cluster, "mixed", 8, 4, prefix="after")
        await_condition("pykafka receives the records produced after the kill", lambda: after <= set(received), timeout=40)
        for partition in range(4):
            assert int(zk_root.get(f"{chroot}/consumers/mixedg/offsets/mixed/{partition}")[0]) > 0
    except AssertionError:
        print("owners:", owners(zk_root, chroot, "mixedg", "mixed"), "members:", members(zk_root, chroot, "mixedg"))
        print("console consumer's log:", console.stderr)
        for consumer in pykafka_consumers:
            print("pykafka", consumer._consumer_id, "holds", consumer._get_held_partitions(), "partitions", consumer._partitions)
        print("history:", history)
        raise
    finally:
        stop_reading.set()
        for consumer in pykafka_consumers:
            consumer.stop()
        if console.process.poll() is None:
            console.stop()

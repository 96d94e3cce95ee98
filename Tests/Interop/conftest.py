"""Fixtures for the interop tests: the ensemble scripts/test.sh started, the ferry binary, a kazoo client."""
import json
import os
import random
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from kazoo.client import KazooClient

ROOT = Path(__file__).resolve().parents[2]


def _require_env(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run the interop tests through scripts/test.sh")
    return value


def await_condition(description, condition, timeout=30):
    """Waits until `condition()` holds, up to `timeout` seconds. An exception counts as not yet (a broker
    restarting, a znode in flux) and is reported if the deadline passes."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            if condition():
                return
        except Exception as error:
            last = error
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting until {description} (last error: {last})")


def await_logged(broker, text, timeout=10):
    """Waits until `broker`'s output contains `text`. A broker logs a decision after its ZooKeeper write completes,
    so a test that has just seen the write (through kazoo) may read the output a moment before the line is there."""
    await_condition(f"{broker.output.name} has {text!r}", lambda: text in broker.output.read_text(), timeout=timeout)


@pytest.fixture(scope="session")
def zk_connect():
    return _require_env("ZK_CONNECT")


@pytest.fixture(scope="session")
def zk_conf_dir():
    return _require_env("ZK_ENSEMBLE_CONF_DIR")


@pytest.fixture(scope="session")
def ferry_bin():
    path = _require_env("FERRY_BIN")
    assert os.access(path, os.X_OK), f"{path} is not an executable ferry binary"
    return path


@pytest.fixture
def kazoo(zk_connect):
    client = KazooClient(hosts=zk_connect, timeout=15)
    client.start(timeout=15)
    yield client
    client.stop()
    client.close()


@pytest.fixture
def scratch(kazoo):
    """A unique znode for one test, removed afterwards."""
    path = f"/ferry-interop/{uuid.uuid4().hex}"
    kazoo.ensure_path(path)
    yield path
    kazoo.delete(path, recursive=True)


def run(*args, stdin=None, check=True, env=None):
    result = subprocess.run(
        [str(a) for a in args], input=stdin, capture_output=True, text=True, timeout=60, env=env
    )
    if check and result.returncode != 0:
        raise AssertionError(f"{args} exited {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}")
    return result


_ports_handed_out = set()


def free_port():
    """A port for a broker to listen on, below the kernel's ephemeral range: a port the kernel hands out (bind to 0)
    can be taken by a client's outgoing connection before the broker binds it, which once failed a fresh-clone run
    with "Address already in use"."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for _ in range(1000):
        port = random.randrange(15000, min(low, 22000))
        if port in _ports_handed_out:  # another broker of this session may not have bound it yet
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            _ports_handed_out.add(port)
            return port
    raise AssertionError("no free port below the ephemeral range")


class BrokerProcess:
    def __init__(self, ferry_bin, zk_connect, tmp_path, broker_id=1, chroot=None, extra=""):
        self.ferry_bin = ferry_bin
        self.port = free_port()
        self.chroot = chroot or f"/ferry-broker-{uuid.uuid4().hex[:8]}"
        self.log_dir = tmp_path / f"logs-{broker_id}-{self.port}"
        self.properties = tmp_path / f"server-{broker_id}-{self.port}.properties"
        self.properties.write_text(
            f"broker.id={broker_id}\nlisteners=PLAINTEXT://127.0.0.1:{self.port}\nlog.dirs={self.log_dir}\n"
            f"zookeeper.connect={zk_connect}{self.chroot}\nzookeeper.session.timeout.ms=4000\n{extra}")
        self.output = tmp_path / f"broker-{broker_id}-{self.port}.out"
        self.process = subprocess.Popen(
            [ferry_bin, "server", str(self.properties)], stdout=open(self.output, "w"), stderr=subprocess.STDOUT)

    def wait_serving(self, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"broker exited {self.process.returncode}: {self.output.read_text()}")
            if "started" in self.output.read_text():
                return self
            time.sleep(0.05)
        raise AssertionError(f"broker did not start: {self.output.read_text()}")

    def assert_no_crash(self):
        """A broker that traps (a Swift runtime crash report) fails the test even if the test did not notice."""
        text = self.output.read_text(errors="replace")
        assert "Program crashed" not in text and "Fatal error" not in text, f"broker crashed:\n{text[-4000:]}"

    def kill9(self):
        self.assert_no_crash()
        self.process.kill()
        self.process.wait(timeout=10)

    def restart(self):
        """Starts the same broker again (same properties, port, log dirs) and waits until it serves."""
        self.assert_no_crash()
        self.output.write_text("")
        self.process = subprocess.Popen(
            [self.ferry_bin, "server", str(self.properties)], stdout=open(self.output, "a"), stderr=subprocess.STDOUT)
        return self.wait_serving(timeout=30)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=20)
        self.assert_no_crash()
        return self.process.returncode


@pytest.fixture
def broker(ferry_bin, zk_connect, tmp_path):
    process = BrokerProcess(ferry_bin, zk_connect, tmp_path).wait_serving()
    yield process
    process.stop()


@pytest.fixture
def cluster(ferry_bin, zk_connect, tmp_path):
    """Three brokers (ids 1-3) of one cluster: the same ZooKeeper chroot, their own ports and log directories."""
    chroot = f"/ferry-cluster-{uuid.uuid4().hex[:8]}"
    brokers = [BrokerProcess(ferry_bin, zk_connect, tmp_path, broker_id=i, chroot=chroot) for i in (1, 2, 3)]
    for process in brokers:
        process.wait_serving()
    yield brokers
    for process in brokers:
        process.stop()


class SyncedKazooClient(KazooClient):
    """Reads what the brokers wrote before the read. A ZooKeeper server may lag behind the quorum, so a broker's write
    acknowledged to a Kafka client can still be missing from the server this client talks to; a fresh-clone run once
    read an offset node in a state the broker had already overwritten. ZooKeeper's guide: sync before reading when one
    client must see another's write."""

    def get(self, path, watch=None):
        self.sync(path)
        return super().get(path, watch)

    def get_children(self, path, watch=None, include_data=False):
        self.sync(path)
        return super().get_children(path, watch, include_data)

    def exists(self, path, watch=None):
        self.sync(path)
        return super().exists(path, watch)


@pytest.fixture
def zk_root(zk_connect):
    """A ZooKeeper client at the root, for checking brokers' znodes from outside; its reads sync first."""
    client = SyncedKazooClient(hosts=zk_connect, timeout=15)
    client.start(timeout=15)
    yield client
    client.stop()


def create_topic(zk_root, broker, name, partitions, broker_id=1):
    assignment = {str(p): [broker_id] for p in range(partitions)}
    zk_root.create(f"{broker.chroot}/brokers/topics/{name}",
                   json.dumps({"version": 3, "partitions": assignment, "adding_replicas": {}, "removing_replicas": {}}).encode(),
                   makepath=True)
    from confluent_kafka.admin import AdminClient
    admin = AdminClient({"bootstrap.servers": f"127.0.0.1:{broker.port}"})
    deadline = time.time() + 15
    while time.time() < deadline:
        topic = admin.list_topics(timeout=5).topics.get(name)
        if topic is not None and len(topic.partitions) == partitions and all(p.leader == broker_id for p in topic.partitions.values()):
            return
        time.sleep(0.1)
    raise AssertionError(f"topic {name} got no leaders")

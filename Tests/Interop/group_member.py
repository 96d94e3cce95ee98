"""One consumer-group member in its own process, so a test can stop it cleanly (SIGTERM: leave the group) or crash it
(kill -9) as a user's application would end. Used by test_groups.py for kafka-python, confluent-kafka and aiokafka.

    group_member.py <client> <bootstrap> <topic> <group> [--no-commit]

It prints one JSON line per event, flushed at once:
  {"assignment": [partitions]}           whenever its assignment changes
  {"partition": p, "offset": o, "value": v}  for each record, as soon as the client returns it
  {"closed": true}                       after a clean close on SIGTERM
Committing members use the client's auto-commit, which also commits on every rebalance and at close, so a clean
leave or join never re-delivers a record. With --no-commit it never commits: what it read is read again by whoever
takes its partitions after a crash.
"""
import asyncio
import json
import signal
import sys

SESSION_TIMEOUT_MS = 6000
HEARTBEAT_INTERVAL_MS = 1000

stopping = False


def stop(*_):
    global stopping
    stopping = True


def emit(**event):
    print(json.dumps(event), flush=True)


class AssignmentReporter:
    def __init__(self):
        self.last = None

    def report(self, partitions):
        current = sorted(partitions)
        if current != self.last:
            self.last = current
            emit(assignment=current)


def run_kafka_python(bootstrap, topic, group, commit):
    from kafka import KafkaConsumer
    consumer = KafkaConsumer(topic, group_id=group, bootstrap_servers=bootstrap.split(","),
                             auto_offset_reset="earliest", enable_auto_commit=commit,
                             session_timeout_ms=SESSION_TIMEOUT_MS, heartbeat_interval_ms=HEARTBEAT_INTERVAL_MS)
    reporter = AssignmentReporter()
    while not stopping:
        for records in consumer.poll(timeout_ms=100).values():
            for record in records:
                emit(partition=record.partition, offset=record.offset, value=record.value.decode())
        reporter.report(tp.partition for tp in consumer.assignment())
    consumer.close(autocommit=commit)


def run_confluent(bootstrap, topic, group, commit):
    from confluent_kafka import Consumer
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                         "enable.auto.commit": commit, "session.timeout.ms": SESSION_TIMEOUT_MS,
                         "heartbeat.interval.ms": HEARTBEAT_INTERVAL_MS})
    consumer.subscribe([topic])
    reporter = AssignmentReporter()
    while not stopping:
        message = consumer.poll(0.1)
        if message is not None and message.error() is None:
            emit(partition=message.partition(), offset=message.offset(), value=message.value().decode())
        reporter.report(tp.partition for tp in consumer.assignment())
    consumer.close()


def run_aiokafka(bootstrap, topic, group, commit):
    from aiokafka import AIOKafkaConsumer

    async def run():
        consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
                                    enable_auto_commit=commit, session_timeout_ms=SESSION_TIMEOUT_MS,
                                    heartbeat_interval_ms=HEARTBEAT_INTERVAL_MS)
        await consumer.start()
        reporter = AssignmentReporter()
        while not stopping:
            for records in (await consumer.getmany(timeout_ms=100)).values():
                for record in records:
                    emit(partition=record.partition, offset=record.offset, value=record.value.decode())
            reporter.report(tp.partition for tp in consumer.assignment())
        await consumer.stop()

    asyncio.run(run())


CLIENTS = {"kafka-python": run_kafka_python, "confluent-kafka": run_confluent, "aiokafka": run_aiokafka}

if __name__ == "__main__":
    client, bootstrap, topic, group = sys.argv[1:5]
    signal.signal(signal.SIGTERM, stop)
    CLIENTS[client](bootstrap, topic, group, commit="--no-commit" not in sys.argv[5:])
    emit(closed=True)

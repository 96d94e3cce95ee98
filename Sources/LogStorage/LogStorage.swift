// LogStorage: partition logs on disk laid out as Apache Kafka's (segments, offset and time indexes,
// checkpoints, retention, recovery). Knows record batches, never requests or ZooKeeper. Built in issue #4.

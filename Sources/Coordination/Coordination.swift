// Coordination: Kafka's ZooKeeper layout (znode paths and JSON payloads), broker registration,
// controller election and the metadata cache, on top of the ZooKeeper client. Built in issues #5 and #6.

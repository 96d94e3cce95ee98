// KafkaProtocol: the sans-I/O Kafka wire codec (framing, headers, every request and response the target
// clients use, record batches, compression). Imports KafkaModel and NIOCore only. Built in issue #3.

// KafkaModel: Kafka's vocabulary as value types (topic names, partition ids, offsets, epochs, node ids,
// API keys, the wire error-code table). No dependencies and no I/O. Filled in by the codec issue (#3).

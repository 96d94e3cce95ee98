// KafkaClient: the async Kafka client (producer, consumer, admin) the command-line tools use. Built in
// issue #7.

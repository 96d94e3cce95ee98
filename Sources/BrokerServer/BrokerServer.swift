// BrokerServer: the broker process: SwiftNIO listener, request handlers, partitions and replication,
// composed from KafkaProtocol, LogStorage and Coordination. Built in issues #5 and #6.

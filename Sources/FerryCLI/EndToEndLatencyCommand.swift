import ArgumentParser
import Foundation
import KafkaClient
import KafkaModel
import NIOCore

/// `kafka-e2e-latency.sh` (Kafka's `kafka.tools.EndToEndLatency`, also reachable as `kafka-run-class.sh
/// kafka.tools.EndToEndLatency`): sends `num_messages` records one at a time, each waited for with the given acks
/// and then read back by a consumer positioned at the log end, and reports the round trips as Kafka's tool does.
struct EndToEndLatencyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "e2e-latency",
        abstract: "Measure produce-to-consume latency (kafka-e2e-latency.sh, kafka.tools.EndToEndLatency).",
        discussion: "Arguments as Kafka's: broker_list topic num_messages producer_acks message_size_bytes [properties_file]."
    )

    @Argument(parsing: .captureForPassthrough, help: "broker_list topic num_messages producer_acks message_size_bytes [properties_file]")
    var arguments: [String] = []

    static let usage = "USAGE: java kafka.tools.EndToEndLatency$ broker_list topic num_messages producer_acks message_size_bytes [optional] properties_file"
    /// How long one record may take to come back (Kafka's tool: 60 s).
    static let pollTimeout = Duration.seconds(60)

    func run() async throws {
        guard (5...6).contains(self.arguments.count), let count = Int(self.arguments[2]), count > 0, let size = Int(self.arguments[4]), size >= 0 else {
            ToolOutput.error(Self.usage)
            throw ExitCode(1)
        }
        let (servers, topic, acks) = (self.arguments[0], self.arguments[1], self.arguments[3])
        guard acks == "1" || acks == "all" else {
            ToolOutput.error("Latency testing requires synchronous acknowledgement. Please use 1 or all")
            throw ExitCode(1)
        }
        do {
            let properties = try ToolProperties.file(self.arguments.count == 6 ? self.arguments[5] : nil)
            let cluster = try KafkaCluster(bootstrapServers: servers, clientId: "e2e-latency")
            defer { Task { await cluster.close() } }
            try await Self.createTopicIfMissing(topic, admin: KafkaAdmin(cluster: cluster))
            let latencies = try await Self.measure(cluster: cluster, topic: topic, count: count, size: size, acks: acks, properties: properties)
            let sorted = latencies.map { Int64($0 / 1_000_000) }.sorted()
            print(String(format: "Avg latency: %.4f ms\n", Double(latencies.reduce(0, +)) / Double(count) / 1_000_000))
            print("Percentiles: 50th = \(sorted[Int(Double(count) * 0.5)]), 99th = \(sorted[Int(Double(count) * 0.99)]), 99.9th = \(sorted[Int(Double(count) * 0.999)])")
        } catch let error as ExitCode {
            throw error
        } catch {
            ToolOutput.error("\(error)")
            throw ExitCode(1)
        }
    }

    private static func createTopicIfMissing(_ topic: String, admin: KafkaAdmin) async throws {
        guard try await admin.describeCluster().topics[topic] == nil else { return }
        print("Topic \"\(topic)\" does not exist. Will create topic with 1 partition(s) and replication factor = 1")
        try await admin.createTopic(topic, partitions: 1, replicationFactor: 1)
    }

    /// Each record's round trip in nanoseconds: from the send until the consumer returns it.
    private static func measure(cluster: KafkaCluster, topic: String, count: Int, size: Int, acks: String, properties: [String: String]) async throws -> [Int64] {
        var consumerConfiguration = KafkaConsumer.Configuration()
        // Kafka's tool: no group offsets, and fetches that never wait on the broker.
        try consumerConfiguration.apply(["enable.auto.commit": "false", "fetch.max.wait.ms": "0"].merging(properties) { $1 })
        let consumer = KafkaConsumer(cluster: cluster, configuration: consumerConfiguration)
        var producerConfiguration = KafkaProducer.Configuration()
        try producerConfiguration.apply(["acks": acks, "linger.ms": "0"].merging(properties) { $1 })
        let producer = KafkaProducer(cluster: cluster, configuration: producerConfiguration)
        defer {
            Task {
                await producer.close()
                await consumer.close()
            }
        }
        var partitions: [TopicPartition] = []
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(30)
        while partitions.isEmpty {
            let metadata = try await cluster.refreshMetadata(topics: [topic])
            partitions = metadata.topics[topic]?.partitions.filter { $0.leader >= 0 }.map { TopicPartition(topic, $0.id) } ?? []
            if partitions.isEmpty {
                guard clock.now < deadline else { throw KafkaClientError(.timedOut, "Topic \(topic) has no leader") }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        await consumer.assign(partitions)
        try await consumer.seek(partitions, to: .latest)

        var latencies: [Int64] = []
        latencies.reserveCapacity(count)
        for index in 0..<count {
            let message = (0..<size).map { _ in UInt8.random(in: 97...122) }
            let begin = clock.now
            try await producer.send(ProducerRecord(topic: topic, value: message))
            var records: [ConsumerRecord] = []
            while records.isEmpty {
                let left = Self.pollTimeout - (clock.now - begin)
                guard left > .zero else { throw KafkaClientError(.timedOut, "poll() timed out before finding a result (timeout:[\(Self.pollTimeout.milliseconds)])") }
                records = try await consumer.poll(timeout: left)
            }
            let elapsed = clock.now - begin
            guard records.count == 1 else {
                throw KafkaClientError(.invalidArgument, "Only one result was expected during this test. We found [\(records.count)]")
            }
            let read = records[0].value.map { Array($0.readableBytesView) } ?? []
            guard read == message else {
                throw KafkaClientError(.invalidArgument, "The message read [\(String(decoding: read, as: UTF8.self))] did not match the message sent [\(String(decoding: message, as: UTF8.self))]")
            }
            let nanoseconds = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
            if index % 1000 == 0 { print("\(index)\t\(Double(nanoseconds) / 1_000_000)") }
            latencies.append(nanoseconds)
        }
        return latencies
    }
}

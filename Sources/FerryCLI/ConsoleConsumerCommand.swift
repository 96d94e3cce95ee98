import ArgumentParser
import Foundation
import KafkaClient
import KafkaModel
import KafkaRecords
import NIOCore
import Synchronization

/// `kafka-console-consumer.sh`: prints records as Kafka 2.8's `DefaultMessageFormatter` does. With
/// `--bootstrap-server`, in a broker-coordinated group (`--group`, or a random `console-consumer-NNNNN` without
/// committing), or from one `--partition` at `--offset`. With `--zookeeper`, as Kafka's old consumer: a
/// ZooKeeper-balanced group member (`ZooKeeperConsoleConsumer`). Ends after `--max-messages`, after `--timeout-ms`
/// without records, or on SIGINT/SIGTERM, and prints `Processed a total of N messages` on stderr.
struct ConsoleConsumerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console-consumer",
        abstract: "Print records from a topic (kafka-console-consumer.sh).",
        discussion: "Takes Kafka's options, with one dash or two; see --help."
    )

    @Argument(parsing: .captureForPassthrough, help: "Kafka's kafka-console-consumer.sh options.")
    var arguments: [String] = []

    static let specs: [KafkaOptions.Spec] = [
        .value("bootstrap-server", "String: server to connect to", "REQUIRED (unless old consumer is used): The server to connect to."),
        .value("zookeeper", "String: urls",
               "REQUIRED (only when using old consumer): The connection string for the zookeeper connection in the form host:port. Multiple URLS can be given to allow fail-over."),
        .flag("delete-consumer-offsets", "If specified, the consumer path in zookeeper is deleted when starting up"),
        .value("topic", "String: topic", "The topic id to consume on."),
        .value("whitelist", "String: whitelist", "Regular expression specifying whitelist of topics to include for consumption."),
        .value("include", "String: include", "Regular expression specifying list of topics to include for consumption."),
        .value("partition", "Integer: partition", "The partition to consume from. Consumption starts from the end of the partition unless '--offset' is specified."),
        .value("offset", "String: consume offset",
               "The offset id to consume from (a non-negative number), or 'earliest' which means from beginning, or 'latest' which means from end",
               default: "latest"),
        .flag("from-beginning", "If the consumer does not already have an established offset to consume from, start with the earliest message present in the log rather than the latest message."),
        .value("max-messages", "Integer: num_messages", "The maximum number of messages to consume before exiting. If not set, consumption is continual."),
        .value("timeout-ms", "Integer: timeout_ms", "If specified, exit if no message is available for consumption for the specified interval."),
        .value("group", "String: consumer group id", "The consumer group id of the consumer."),
        .value("consumer-property", "String: consumer_prop", "A mechanism to pass user-defined properties in the form key=value to the consumer."),
        .value("consumer.config", "String: config file", "Consumer config properties file. Note that [consumer-property] takes precedence over this config."),
        .value("property", "String: prop",
               "The properties to initialize the message formatter. Default properties include: print.timestamp=true|false print.key=true|false print.offset=true|false print.partition=true|false print.headers=true|false print.value=true|false key.separator=<key.separator> line.separator=<line.separator> headers.separator=<line.separator> null.literal=<null.literal>"),
        .value("formatter", "String: class", "The name of a class to use for formatting kafka messages for display.", default: "kafka.tools.DefaultMessageFormatter"),
        .value("isolation-level", "String", "Set to read_committed in order to filter out transactional messages which are not committed. Set to read_uncommittedto read all messages.", default: "read_uncommitted"),
        .value("key-deserializer", "String: deserializer for key", ""),
        .value("value-deserializer", "String: deserializer for values", ""),
        .flag("skip-message-on-error", "If there is an error when processing a message, skip it instead of halt."),
        .flag("enable-systest-events", "Log lifecycle events of the consumer in addition to logging consumed messages. (This is specific for system tests.)"),
    ]

    func run() async throws {
        guard let options = try KafkaOptions.parseTool(
            self.arguments, specs: Self.specs, about: "This tool helps to read data from Kafka topics and outputs it to standard output.",
            check: Self.check)
        else { return }
        let format: MessageFormat
        var configuration = KafkaConsumer.Configuration()
        let cluster: KafkaCluster
        var balanced: ZooKeeperConsoleConsumer?
        do {
            format = MessageFormat(try ToolProperties.pairs(options.all("property")))
            var properties = try ToolProperties.file(options.value("consumer.config"))
            properties.merge(try ToolProperties.pairs(options.all("consumer-property"))) { $1 }
            let groupNamed = options.has("group") || properties["group.id"] != nil
            if let group = options.value("group") {
                properties["group.id"] = group
            } else if properties["group.id"] == nil {
                // A random group; the new consumer commits nothing to it (Kafka 2.8), the old one deletes it at exit.
                properties["group.id"] = "console-consumer-\(Int.random(in: 0..<100_000))"
                if !options.has("zookeeper") { properties["enable.auto.commit"] = "false" }
            }
            if options.has("zookeeper") {
                ToolOutput.error("Using the ConsoleConsumer with old consumer is deprecated and will be removed in a future major release. Consider using the new consumer by passing [bootstrap-server] instead of [zookeeper].")
                properties = ZooKeeperConsoleConsumer.translate(properties)
            }
            properties["auto.offset.reset"] = options.has("from-beginning") ? "earliest" : properties["auto.offset.reset"] ?? "latest"
            try configuration.apply(properties)
            if let connect = options.value("zookeeper") {
                let topics = try await Self.topics(options, among: nil)
                (balanced, cluster) = try await ZooKeeperConsoleConsumer.start(
                    connect: connect, group: configuration.groupId!, groupNamed: groupNamed, topics: topics,
                    fromBeginning: options.has("from-beginning"), deleteOffsets: options.has("delete-consumer-offsets"),
                    configuration: configuration, properties: properties)
                configuration.groupId = nil  // offsets go to ZooKeeper through the member, not to a coordinator
            } else {
                cluster = try KafkaCluster(bootstrapServers: options.value("bootstrap-server")!, clientId: "console-consumer")
            }
        } catch {
            ToolOutput.error("\(error)")
            throw ExitCode(1)
        }
        let consumer = KafkaConsumer(cluster: cluster, configuration: configuration)
        let maxMessages = try? options.integer("max-messages")
        let idleTimeout = (try? options.integer("timeout-ms")).flatMap { $0 }.map { Duration.milliseconds($0) }
        var processed = 0
        var failed = false
        let stop = StopSignal()
        do {
            if let partition = try options.integer("partition") {
                let topic = TopicPartition(options.value("topic")!, Int32(partition))
                let metadata = try await cluster.refreshMetadata(topics: [topic.topic])
                guard let entry = metadata.topics[topic.topic], entry.error == .none else {
                    throw KafkaClientError.kafka(metadata.topics[topic.topic]?.error ?? .unknownTopicOrPartition, message: "Topic \(topic.topic) not present in metadata")
                }
                guard entry.partitions.contains(where: { $0.id == topic.partition }) else {
                    throw KafkaClientError(.invalidArgument, "Partition \(topic) does not exist")
                }
                await consumer.assign([topic])
                switch options.value("offset") ?? "latest" {
                case "earliest": try await consumer.seek([topic], to: .earliest)
                case "latest": try await consumer.seek([topic], to: options.has("from-beginning") ? .earliest : .latest)
                case let text: await consumer.seek(topic, offset: Int64(text)!)
                }
            } else if balanced == nil {
                try await consumer.subscribe(try await Self.topics(options, among: cluster))
            }
            var lastRecord = ContinuousClock.now
            var lastCommit = ContinuousClock.now
            consume: while !stop.requested {
                if let maxMessages, processed >= maxMessages { break }
                if let balanced {
                    try await balanced.maintain(consumer, cluster: cluster)
                    if balanced.autoCommit, ContinuousClock.now - lastCommit >= balanced.autoCommitInterval {
                        try await balanced.commit(consumer)
                        lastCommit = .now
                    }
                }
                let records = try await consumer.poll(timeout: .milliseconds(200))
                if records.isEmpty {
                    if let idleTimeout, ContinuousClock.now - lastRecord >= idleTimeout {
                        ToolOutput.error("[\(Self.timestamp())] ERROR Error processing message, terminating consumer process:  (kafka.tools.ConsoleConsumer$)\norg.apache.kafka.common.errors.TimeoutException")
                        break
                    }
                    continue
                }
                lastRecord = .now
                var output = ""
                var unprinted: [TopicPartition: Int64] = [:]
                for record in records {
                    let partition = TopicPartition(record.topic, record.partition)
                    if let maxMessages, processed >= maxMessages {
                        // Not printed: a commit must not pass it, so the group's next reader starts there.
                        if unprinted[partition] == nil { unprinted[partition] = record.offset }
                        continue
                    }
                    format.write(record, to: &output)
                    processed += 1
                }
                for (partition, offset) in unprinted { await consumer.seek(partition, offset: offset) }
                FileHandle.standardOutput.write(Data(output.utf8))
                if let maxMessages, processed >= maxMessages { break consume }
            }
        } catch {
            ToolOutput.error("[\(Self.timestamp())] ERROR Unknown error when running consumer:  (kafka.tools.ConsoleConsumer$)\n\(error)")
            failed = true
        }
        await balanced?.close(consumer)
        await consumer.close()
        ToolOutput.error("Processed a total of \(processed) messages")
        if failed { throw ExitCode(1) }
    }

    /// The topics `--topic`, or the `--whitelist`/`--include` pattern among the cluster's (or ZooKeeper's) topics.
    static func topics(_ options: KafkaOptions, among cluster: KafkaCluster?) async throws -> [String] {
        if let topic = options.value("topic") { return [topic] }
        let pattern = options.value("include") ?? options.value("whitelist")!
        let regex = try NSRegularExpression(pattern: "^(?:\(pattern.replacingOccurrences(of: ",", with: "|")))$")
        let names = try await cluster?.refreshMetadata().topics.keys.map { $0 } ?? []
        return names.filter { !$0.hasPrefix("__") && regex.firstMatch(in: $0, range: NSRange($0.startIndex..., in: $0)) != nil }.sorted()
    }

    /// Kafka 2.8's `ConsumerConfig.checkArgs`, in its order; with `--zookeeper`, the old consumer's checks (Kafka 1.1).
    static func check(_ options: KafkaOptions) throws(KafkaOptions.UsageError) {
        if options.has("zookeeper") {
            if options.has("bootstrap-server") {
                throw KafkaOptions.UsageError(message: "Option [bootstrap-server] is not valid with [zookeeper].")
            }
            if options.has("partition") || options.values["offset"] != nil {
                throw KafkaOptions.UsageError(message: "Partition-offset based consumption is supported in the new consumer only.")
            }
            if options.has("whitelist") || options.has("include") {
                throw KafkaOptions.UsageError(message: "Whitelist consumption with --zookeeper is not supported by Ferry; use --topic, or --bootstrap-server with --whitelist.")
            }
        } else {
            _ = try options.require("bootstrap-server")
        }
        let topicArgs = ["topic", "whitelist", "include"].filter(options.has)
        guard topicArgs.count == 1 else {
            throw KafkaOptions.UsageError(message: "Exactly one of whitelist/topic is required.")
        }
        if options.has("partition") {
            guard options.has("topic") else { throw KafkaOptions.UsageError(message: "The topic is required when partition is specified.") }
            if options.has("from-beginning") && options.values["offset"] != nil {
                throw KafkaOptions.UsageError(message: "Options from-beginning and offset cannot be specified together.")
            }
        } else if options.values["offset"] != nil {
            throw KafkaOptions.UsageError(message: "The partition is required when offset is specified.")
        }
        if let offset = options.values["offset"]?.last, offset != "earliest", offset != "latest", Int64(offset).map({ $0 >= 0 }) != true {
            throw KafkaOptions.UsageError(message: "The provided offset value '\(offset)' is incorrect. Valid values are 'earliest', 'latest', or a non-negative long.")
        }
        if options.has("group") && options.has("partition") {
            throw KafkaOptions.UsageError(message: "Options group and partition cannot be specified together.")
        }
        _ = try options.integer("partition")
        _ = try options.integer("max-messages")
        _ = try options.integer("timeout-ms")
    }

    static func timestamp() -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss,SSS"
        return formatter.string(from: Date())
    }
}

/// Kafka's `DefaultMessageFormatter`: optional timestamp, partition, offset, headers and key before the value, each
/// followed by `key.separator`; then `line.separator`.
struct MessageFormat {
    var printTimestamp = false
    var printPartition = false
    var printOffset = false
    var printHeaders = false
    var printKey = false
    var printValue = true
    var keySeparator = "\t"
    var lineSeparator = "\n"
    var headersSeparator = ","
    var nullLiteral = "null"

    init(_ properties: [String: String]) {
        func flag(_ name: String, _ current: Bool) -> Bool { properties[name].map { $0.lowercased() == "true" } ?? current }
        self.printTimestamp = flag("print.timestamp", false)
        self.printPartition = flag("print.partition", false)
        self.printOffset = flag("print.offset", false)
        self.printHeaders = flag("print.headers", false)
        self.printKey = flag("print.key", false)
        self.printValue = flag("print.value", true)
        self.keySeparator = properties["key.separator"] ?? "\t"
        self.lineSeparator = properties["line.separator"] ?? "\n"
        self.headersSeparator = properties["headers.separator"] ?? ","
        self.nullLiteral = properties["null.literal"] ?? "null"
    }

    func write(_ record: ConsumerRecord, to output: inout String) {
        func text(_ buffer: ByteBuffer?) -> String {
            buffer.map { String(decoding: $0.readableBytesView, as: UTF8.self) } ?? self.nullLiteral
        }
        var fields: [String] = []
        if self.printTimestamp { fields.append("\(record.timestampType == .logAppendTime ? "LogAppendTime" : "CreateTime"):\(record.timestamp)") }
        if self.printPartition { fields.append("Partition:\(record.partition)") }
        if self.printOffset { fields.append("Offset:\(record.offset)") }
        if self.printHeaders {
            fields.append(record.headers.isEmpty ? "NO_HEADERS" : record.headers.map { "\($0.key):\(text($0.value))" }.joined(separator: self.headersSeparator))
        }
        if self.printKey { fields.append(text(record.key)) }
        if self.printValue { fields.append(text(record.value)) }
        output += fields.joined(separator: self.keySeparator)
        output += self.lineSeparator
    }
}

/// Set on SIGINT or SIGTERM, so the consumer stops, leaves its group and prints its count, as Kafka's shutdown hook.
///
/// `@unchecked Sendable`: `sources` is written only in `init`; dispatch sources are themselves thread-safe.
final class StopSignal: @unchecked Sendable {
    private let flag = Mutex(false)
    private var sources: [any DispatchSourceSignal] = []

    init() {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [weak self] in self?.flag.withLock { $0 = true } }
            source.resume()
            self.sources.append(source)
        }
    }

    var requested: Bool { self.flag.withLock { $0 } }
}

import ArgumentParser
import Foundation
import KafkaClient
import KafkaModel
import Synchronization

/// `kafka-console-producer.sh`: one record per line of stdin (a key before `key.separator` with
/// `--property parse.key=true`), Kafka 2.8's options. Failed sends are reported on stderr, and the exit is 1 if any
/// record was not stored.
struct ConsoleProducerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console-producer",
        abstract: "Send lines from standard input as records (kafka-console-producer.sh).",
        discussion: "Takes Kafka's options, with one dash or two; see --help."
    )

    @Argument(parsing: .captureForPassthrough, help: "Kafka's kafka-console-producer.sh options.")
    var arguments: [String] = []

    static let specs: [KafkaOptions.Spec] = [
        .value("bootstrap-server", "String: server to connect to",
               "REQUIRED unless --broker-list(deprecated) is specified. The server(s) to connect to. The broker list string in the form HOST1:PORT1,HOST2:PORT2."),
        .value("broker-list", "String: broker-list", "DEPRECATED, use --bootstrap-server instead; ignored if --bootstrap-server is specified.  The broker list string in the form HOST1:PORT1,HOST2:PORT2."),
        .value("topic", "String: topic", "REQUIRED: The topic id to produce messages to."),
        .value("batch-size", "Integer: size", "Number of messages to send in a single batch if they are not being sent synchronously.", default: "200"),
        .value("compression-codec", "String: compression-codec",
               "The compression codec: either 'none', 'gzip', 'snappy', 'lz4', or 'zstd'.If specified without value, then it defaults to 'gzip'"),
        .value("line-reader", "String: reader_class", "The class name of the class to use for reading lines from standard in.", default: "kafka.tools.ConsoleProducer$LineMessageReader"),
        .value("max-block-ms", "Long: max block on send", "The max time that the producer will block for during a send request", default: "60000"),
        .value("max-memory-bytes", "Long: total memory in bytes", "The total memory used by the producer to buffer records waiting to be sent to the server.", default: "33554432"),
        .value("max-partition-memory-bytes", "Long: memory in bytes per partition",
               "The buffer size allocated for a partition. When records are received which are smaller than this size the producer will attempt to optimistically group them together until this size is reached.", default: "16384"),
        .value("message-send-max-retries", "Integer", "Brokers can fail receiving the message for multiple reasons, and being unavailable transiently is just one of them. This property specifies the number of retries before the producer give up and drop this message.", default: "3"),
        .value("metadata-expiry-ms", "Long: metadata expiration interval", "The period of time in milliseconds after which we force a refresh of metadata even if we haven't seen any leadership changes.", default: "300000"),
        .value("producer-property", "String: producer_prop", "A mechanism to pass user-defined properties in the form key=value to the producer. "),
        .value("producer.config", "String: config file", "Producer config properties file. Note that [producer-property] takes precedence over this config."),
        .value("property", "String: prop",
               "A mechanism to pass user-defined properties in the form key=value to the message reader. This allows custom configuration for a user-defined message reader. Default properties include: parse.key=true|false key.separator=<key.separator> ignore.error=true|false"),
        .value("request-required-acks", "String: request required acks", "The required acks of the producer requests", default: "-1"),
        .value("request-timeout-ms", "Integer: request timeout ms", "The ack timeout of the producer requests. Value must be non-negative and non-zero", default: "1500"),
        .value("retry-backoff-ms", "Long", "Before each retry, the producer refreshes the metadata of relevant topics. Since leader election takes a bit of time, this property specifies the amount of time that the producer waits before refreshing the metadata.", default: "100"),
        .value("socket-buffer-size", "Integer: size", "The size of the tcp RECV size.", default: "102400"),
        .flag("sync", "If set message send requests to the brokers are synchronously, one at a time as they arrive."),
        .value("timeout", "Long: timeout_ms", "If set and the producer is running in asynchronous mode, this gives the maximum amount of time a message will queue awaiting sufficient batch size. The value is given in ms.", default: "1000"),
    ]

    func run() async throws {
        let options: KafkaOptions
        let bootstrap: String
        do {
            options = try KafkaOptions(Self.defaultingCodec(self.arguments), specs: Self.specs)
            if options.has("version") {
                print(FerryTools.version)
                return
            }
            if self.arguments.isEmpty || options.has("help") {
                throw KafkaOptions.UsageError(message: "This tool helps to read data from standard input and publish it to Kafka.")
            }
            guard let servers = options.value("bootstrap-server") ?? options.value("broker-list") else {
                throw KafkaOptions.UsageError(message: "Missing required option(s) [bootstrap-server]")
            }
            bootstrap = servers
            _ = try options.require("topic")
        } catch let error as KafkaOptions.UsageError {
            ToolOutput.usage(error.message, help: (try? KafkaOptions([], specs: Self.specs))?.help() ?? "")
            throw ExitCode(1)
        }
        let topic = options.value("topic")!
        let reader: [String: String]
        var configuration = KafkaProducer.Configuration()
        do {
            reader = try ToolProperties.pairs(options.all("property"))
            var properties = try ToolProperties.file(options.value("producer.config"))
            properties["acks"] = options.value("request-required-acks")
            properties["linger.ms"] = options.value("timeout")
            properties["batch.size"] = options.value("max-partition-memory-bytes")
            properties["request.timeout.ms"] = options.value("request-timeout-ms")
            properties["retry.backoff.ms"] = options.value("retry-backoff-ms")
            if let codec = options.value("compression-codec") { properties["compression.type"] = codec }
            properties.merge(try ToolProperties.pairs(options.all("producer-property"))) { $1 }
            try configuration.apply(properties)
        } catch {
            ToolOutput.error("\(error)")
            throw ExitCode(1)
        }
        let parseKey = reader["parse.key"]?.lowercased() == "true"
        let separator = reader["key.separator"] ?? "\t"
        let ignoreError = reader["ignore.error"]?.lowercased() == "true"
        let sync = options.has("sync")

        let cluster: KafkaCluster
        do {
            cluster = try KafkaCluster(bootstrapServers: bootstrap, clientId: "console-producer")
        } catch {
            ToolOutput.error("\(error)")
            throw ExitCode(1)
        }
        let producer = KafkaProducer(cluster: cluster, configuration: configuration)
        let failures = Atomic<Int>(0)
        let prompt = isatty(STDIN_FILENO) == 1
        var lineNumber = 0
        while true {
            if prompt {
                FileHandle.standardOutput.write(Data(">".utf8))
            }
            guard let line = readLine(strippingNewline: true) else { break }
            lineNumber += 1
            var key: [UInt8]?
            var value = Array(line.utf8)
            if parseKey {
                if let range = line.range(of: separator) {
                    key = Array(line[..<range.lowerBound].utf8)
                    value = Array(line[range.upperBound...].utf8)
                } else if !ignoreError {
                    ToolOutput.error("No key found on line \(lineNumber): \(line)")
                    await producer.close()
                    throw ExitCode(1)
                }
            }
            let record = ProducerRecord(topic: topic, key: key, value: value)
            let size = value.count
            let keyText = key.map { String(decoding: $0, as: UTF8.self) } ?? "null"
            // Kafka's ErrorLoggingCallback line.
            let failed: @Sendable (any Error) -> Void = { error in
                ToolOutput.error("ERROR Error when sending message to topic \(topic) with key: \(keyText), value: \(size) bytes with error: \(error) (org.apache.kafka.clients.producer.internals.ErrorLoggingCallback)")
            }
            let report: KafkaProducer.Completion = { result in
                if case .failure(let error) = result {
                    failures.add(1, ordering: .relaxed)
                    failed(error)
                }
            }
            do {
                if sync {
                    do {
                        try await producer.send(record)
                    } catch {
                        report(.failure(error as? KafkaClientError ?? KafkaClientError(.invalidArgument, "\(error)")))
                    }
                } else {
                    try await producer.send(record, completion: report)
                }
            } catch {
                failed(error)
                await producer.close()
                throw ExitCode(1)
            }
        }
        await producer.close()
        if failures.load(ordering: .relaxed) > 0 { throw ExitCode(1) }
    }

    /// jopt's optional argument: a bare `--compression-codec` (last, or followed by another option) means gzip.
    static func defaultingCodec(_ arguments: [String]) -> [String] {
        var result: [String] = []
        for (index, word) in arguments.enumerated() {
            result.append(word)
            if word == "--compression-codec" || word == "-compression-codec" {
                let next = index + 1 < arguments.count ? arguments[index + 1] : nil
                if next == nil || next!.hasPrefix("-") { result.append("gzip") }
            }
        }
        return result
    }
}

/// `key=value` properties as Kafka's tools take them (`--property`, `--producer-property`, `*.config` files).
enum ToolProperties {
    static func pairs(_ entries: [String]) throws(KafkaClientError) -> [String: String] {
        var result: [String: String] = [:]
        for entry in entries {
            guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else {
                throw KafkaClientError(.invalidArgument, "Invalid command line properties: \(entry)")
            }
            result[String(entry[..<equals]).trimmingCharacters(in: .whitespaces)] = String(entry[entry.index(after: equals)...])
        }
        return result
    }

    /// A Java properties file (`key=value` or `key: value` lines, `#` and `!` comments).
    static func file(_ path: String?) throws -> [String: String] {
        guard let path else { return [:] }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw KafkaClientError(.invalidArgument, "\(path) (No such file or directory)")
        }
        var result: [String: String] = [:]
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#"), !line.hasPrefix("!") else { continue }
            guard let split = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                result[line] = ""
                continue
            }
            result[line[..<split].trimmingCharacters(in: .whitespaces)] = line[line.index(after: split)...].trimmingCharacters(in: .whitespaces)
        }
        return result
    }
}

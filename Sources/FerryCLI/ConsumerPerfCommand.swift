import ArgumentParser
import Foundation
import KafkaClient
import KafkaModel
import NIOCore

/// `kafka-consumer-perf-test.sh`: Kafka 2.8's ConsumerPerformance on Ferry's Swift consumer. A group member
/// subscribes to `--topic` and reads until `--messages` records have come or none came for `--timeout` ms, then prints
/// Kafka's summary row (or, with `--show-detailed-stats`, a row every `--reporting-interval`).
struct ConsumerPerfCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consumer-perf-test",
        abstract: "Measure consumer throughput (kafka-consumer-perf-test.sh).",
        discussion: "Takes Kafka's options, with one dash or two; see --help."
    )

    @Argument(parsing: .captureForPassthrough, help: "Kafka's ConsumerPerformance options.")
    var arguments: [String] = []

    static let specs: [KafkaOptions.Spec] = [
        .value("bootstrap-server", "String: server to connect to", "REQUIRED unless --broker-list(deprecated) is specified. The server(s) to connect to."),
        .value("broker-list", "String: broker-list", "DEPRECATED, use --bootstrap-server instead; ignored if --bootstrap-server is specified. The broker list string in the form HOST1:PORT1,HOST2:PORT2."),
        .value("topic", "String: topic", "REQUIRED: The topic to consume from."),
        .value("messages", "Long: count", "REQUIRED: The number of messages to send or consume"),
        .value("group", "String: gid", "The group id to consume on.", default: "perf-consumer-\(Int.random(in: 0..<100_000))"),
        .value("fetch-size", "Integer: size", "The amount of data to fetch in a single request.", default: "1048576"),
        .flag("from-latest", "If the consumer does not already have an established offset to consume from, start with the latest message present in the log rather than the earliest message."),
        .value("socket-buffer-size", "Integer: size", "The size of the tcp RECV size.", default: "2097152"),
        .value("threads", "Integer: count", "DEPRECATED AND IGNORED: Number of processing threads.", default: "10"),
        .value("num-fetch-threads", "Integer: count", "DEPRECATED AND IGNORED: Number of fetcher threads.", default: "1"),
        .value("consumer.config", "String: config file", "Consumer config properties file."),
        .flag("print-metrics", "Print out the metrics."),
        .flag("show-detailed-stats", "If set, stats are reported for each reporting interval as configured by reporting-interval"),
        .value("timeout", "Long: milliseconds", "The maximum allowed time in milliseconds between returned records.", default: "10000"),
        .value("reporting-interval", "Integer: interval_ms", "Interval in milliseconds at which to print progress info.", default: "5000"),
        .value("date-format", "String: date format", "The date format to use for formatting the time field. See java.text.SimpleDateFormat for options.", default: "yyyy-MM-dd HH:mm:ss:SSS"),
        .flag("hide-header", "If set, skips printing the header for the stats "),
    ]

    func run() async throws {
        guard let options = try KafkaOptions.parseTool(
            self.arguments, specs: Self.specs, about: "This tool helps in performance test for the full zookeeper consumer",
            check: { options throws(KafkaOptions.UsageError) in
                _ = try options.require("topic")
                _ = try options.require("messages")
                guard options.has("bootstrap-server") || options.has("broker-list") else {
                    throw KafkaOptions.UsageError(message: "Missing required argument \"[bootstrap-server]\"")
                }
                for name in ["messages", "fetch-size", "timeout", "reporting-interval", "threads", "num-fetch-threads"] { _ = try options.integer(name) }
                if try options.integer("reporting-interval")! <= 0 { throw KafkaOptions.UsageError(message: "Reporting interval must be greater than 0.") }
            }) else { return }
        if options.has("threads") || options.has("num-fetch-threads") {
            print("WARNING: option [threads] and [num-fetch-threads] have been deprecated and will be ignored by the test")
        }
        let topic = options.value("topic")!
        let wanted = try options.integer("messages")!
        let timeout = Duration.milliseconds(try options.integer("timeout")!)
        let interval = Duration.milliseconds(try options.integer("reporting-interval")!)
        let detailed = options.has("show-detailed-stats")
        let dates = DateFormatter()
        dates.locale = Locale(identifier: "en_US_POSIX")
        dates.dateFormat = options.value("date-format")!

        let cluster: KafkaCluster
        var configuration = KafkaConsumer.Configuration()
        do {
            var properties = try ToolProperties.file(options.value("consumer.config"))
            properties["group.id"] = options.value("group")!
            properties["max.partition.fetch.bytes"] = options.value("fetch-size")!
            properties["auto.offset.reset"] = options.has("from-latest") ? "latest" : "earliest"
            try configuration.apply(properties)
            cluster = try KafkaCluster(
                bootstrapServers: options.value("bootstrap-server") ?? options.value("broker-list")!, clientId: properties["client.id"] ?? "perf-consumer-client")
        } catch {
            ToolOutput.error("\(error)")
            throw ExitCode(1)
        }
        if !options.has("hide-header") {
            let first = detailed ? "time, threadId" : "start.time, end.time"
            print("\(first), data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec")
        }
        let consumer = KafkaConsumer(cluster: cluster, configuration: configuration)
        let startMs = wallClockMillis()
        var joinMs: Int64 = 0
        var joined = false
        var messages = 0
        var bytes = 0
        var window = (ms: startMs, messages: 0, bytes: 0, joinMs: Int64(0))
        var lastRecord = ContinuousClock.now
        do {
            try await consumer.subscribe([topic])
            while messages < wanted && ContinuousClock.now - lastRecord <= timeout {
                let records = try await consumer.poll(timeout: .milliseconds(100))
                if !joined, !(await consumer.assignment).isEmpty {
                    // ConsumerPerformance counts the time until partitions are assigned as rebalance time.
                    joined = true
                    joinMs = wallClockMillis() - startMs
                    window.joinMs = joinMs
                }
                if !records.isEmpty { lastRecord = .now }
                for record in records {
                    messages += 1
                    bytes += (record.key?.readableBytes ?? 0) + (record.value?.readableBytes ?? 0)
                }
                let now = wallClockMillis()
                if detailed && now - window.ms >= interval.milliseconds {
                    print(Self.progress(dates, now: now, since: window, messages: messages, bytes: bytes))
                    window = (now, messages, bytes, 0)
                }
            }
        } catch {
            ToolOutput.error("\(error)")
            await consumer.close()
            throw ExitCode(1)
        }
        if messages < wanted {
            print("WARNING: Exiting before consuming the expected number of messages: timeout (\(timeout.milliseconds) ms) exceeded. You can use the --timeout option to increase the timeout.")
        }
        let endMs = wallClockMillis()
        await consumer.close()
        if !detailed {
            let elapsed = Double(endMs - startMs) / 1000
            let fetchMs = endMs - startMs - joinMs
            let megabytes = Double(bytes) / 1_048_576
            print(String(format: "%@, %@, %.4f, %.4f, %d, %.4f, %lld, %lld, %.4f, %.4f",
                         dates.string(from: Self.date(startMs)), dates.string(from: Self.date(endMs)), megabytes, megabytes / elapsed,
                         messages, Double(messages) / elapsed, joinMs, fetchMs,
                         megabytes / (Double(fetchMs) / 1000), Double(messages) / (Double(fetchMs) / 1000)))
        }
    }

    /// One `--show-detailed-stats` row: Kafka's printBasicProgress then printExtendedProgress.
    private static func progress(
        _ dates: DateFormatter, now: Int64, since window: (ms: Int64, messages: Int, bytes: Int, joinMs: Int64), messages: Int, bytes: Int
    ) -> String {
        let elapsedMs = Double(now - window.ms)
        let intervalMB = Double(bytes - window.bytes) / 1_048_576
        let fetchMs = now - window.ms - window.joinMs
        let fetchMBs = fetchMs <= 0 ? 0 : 1000 * intervalMB / Double(fetchMs)
        let fetchRate = fetchMs <= 0 ? 0 : 1000 * Double(messages - window.messages) / Double(fetchMs)
        return String(format: "%@, %d, %.4f, %.4f, %d, %.4f, %lld, %lld, %.4f, %.4f",
                      dates.string(from: Self.date(now)), 0, Double(bytes) / 1_048_576, 1000 * intervalMB / elapsedMs, messages,
                      Double(messages - window.messages) / elapsedMs * 1000, window.joinMs, fetchMs, fetchMBs, fetchRate)
    }

    private static func date(_ ms: Int64) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }
}

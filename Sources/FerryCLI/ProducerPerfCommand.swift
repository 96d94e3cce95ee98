import ArgumentParser
import Foundation
import KafkaClient
import KafkaModel
import Synchronization

/// `kafka-producer-perf-test.sh`: Kafka's ProducerPerformance on Ferry's Swift producer. Sends `--num-records`
/// records of `--record-size` random capital letters (or lines of `--payload-file`) at up to `--throughput` per
/// second (-1: no limit), printing a window line every 5 s and Kafka's summary line at the end.
struct ProducerPerfCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "producer-perf-test",
        abstract: "Measure producer throughput and latency (kafka-producer-perf-test.sh).",
        discussion: "Takes Kafka's options; see --help."
    )

    @Argument(parsing: .captureForPassthrough, help: "Kafka's kafka-producer-perf-test.sh options.")
    var arguments: [String] = []

    static let specs: [KafkaOptions.Spec] = [
        .value("topic", "TOPIC", "produce messages to this topic"),
        .value("num-records", "NUM-RECORDS", "number of messages to produce"),
        .value("record-size", "RECORD-SIZE", "message size in bytes. Note that you must provide exactly one of --record-size or --payload-file."),
        .value("payload-file", "PAYLOAD-FILE", "file to read the message payloads from. This works only for UTF-8 encoded text files. Payloads will be read from this file and a payload will be randomly selected when sending messages. Note that you must provide exactly one of --record-size or --payload-file."),
        .value("payload-delimiter", "PAYLOAD-DELIMITER", "provides delimiter to be used when --payload-file is provided. Defaults to new line. Note that this parameter will be ignored if --payload-file is not provided.", default: "\\n"),
        .value("throughput", "THROUGHPUT", "throttle maximum message throughput to *approximately* THROUGHPUT messages/sec. Set this to -1 to disable throttling."),
        .value("producer-props", "PROP-NAME=PROP-VALUE", "kafka producer related configuration properties like bootstrap.servers,client.id etc. These configs take precedence over those passed via --producer.config."),
        .value("producer.config", "CONFIG-FILE", "producer config properties file."),
        .flag("print-metrics", "print out metrics at the end of the test."),
    ]

    func run() async throws {
        let options: KafkaOptions
        do {
            options = try KafkaOptions(Self.expandingProps(self.arguments), specs: Self.specs)
            if self.arguments.isEmpty || options.has("help") {
                print((try? KafkaOptions([], specs: Self.specs))?.help() ?? "")
                return
            }
            for name in ["topic", "num-records", "throughput"] where !options.has(name) {
                throw KafkaOptions.UsageError(message: "argument --\(name) is required")
            }
            guard options.has("record-size") != options.has("payload-file") else {
                throw KafkaOptions.UsageError(message: "one of the arguments --record-size --payload-file is required")
            }
            guard options.has("producer-props") || options.has("producer.config") else {
                throw KafkaOptions.UsageError(message: "Either --producer-props or --producer.config must be specified.")
            }
        } catch let error as KafkaOptions.UsageError {
            ToolOutput.error("producer-performance: error: \(error.message)")
            throw ExitCode(1)
        }
        let topic = options.value("topic")!
        var properties: [String: String]
        var configuration = KafkaProducer.Configuration()
        let records: Int
        let throughput: Int
        let payloads: [[UInt8]]
        do {
            guard let count = try options.integer("num-records"), let limit = try options.integer("throughput") else { throw ExitCode(1) }
            records = count
            throughput = limit
            properties = try ToolProperties.file(options.value("producer.config"))
            properties.merge(try ToolProperties.pairs(options.all("producer-props"))) { $1 }
            try configuration.apply(properties)
            if let size = try options.integer("record-size") {
                // Kafka's payload: random upper-case letters, the same for every record.
                var generator = SystemRandomNumberGenerator()
                payloads = [(0..<size).map { _ in UInt8.random(in: 65...90, using: &generator) }]
            } else {
                let path = options.value("payload-file")!
                let text = try String(contentsOfFile: path, encoding: .utf8)
                let delimiter = (options.value("payload-delimiter") ?? "\\n").replacingOccurrences(of: "\\n", with: "\n")
                payloads = text.components(separatedBy: delimiter).filter { !$0.isEmpty }.map { Array($0.utf8) }
                print("Reading payloads from: \(URL(fileURLWithPath: path).path)")
                print("Number of messages read: \(payloads.count)")
                guard !payloads.isEmpty else { throw KafkaClientError(.invalidArgument, "File does not contain any payloads") }
            }
        } catch let error as KafkaOptions.UsageError {
            ToolOutput.error("producer-performance: error: \(error.message)")
            throw ExitCode(1)
        } catch {
            ToolOutput.error("\(error)")
            throw ExitCode(1)
        }
        guard let servers = properties["bootstrap.servers"] else {
            ToolOutput.error("Missing required configuration \"bootstrap.servers\" which has no default value.")
            throw ExitCode(1)
        }
        let cluster: KafkaCluster
        do {
            cluster = try KafkaCluster(bootstrapServers: servers, clientId: properties["client.id"] ?? "perf-producer-client")
        } catch {
            ToolOutput.error("\(error)")
            throw ExitCode(1)
        }
        let producer = KafkaProducer(cluster: cluster, configuration: configuration)
        let stats = PerfStats(records: records)
        let start = ContinuousClock.now
        // With one payload every record's report is the same object, so the producer keeps no closure per record; the
        // latency runs from the record's CreateTime, which the producer stamps when `send` is called (Kafka's
        // sendStartMs). Payloads from a file differ in size, so each record gets its own completion.
        let shared = payloads.count == 1 ? KafkaProducer.DeliveryReport { result in
            let now = wallClockMillis()
            switch result {
            case .success(let metadata): stats.record(latencyMs: now - metadata.timestamp, bytes: payloads[0].count, now: now)
            case .failure(let error):
                stats.record(latencyMs: 0, bytes: payloads[0].count, now: now)
                ToolOutput.error("\(error)")
            }
        } : nil
        do {
            for index in 0..<records {
                if let shared {
                    try await producer.send(ProducerRecord(topic: topic, value: payloads[0]), report: shared)
                } else {
                    let payload = payloads[Int.random(in: 0..<payloads.count)]
                    let sent = wallClockMillis()
                    try await producer.send(ProducerRecord(topic: topic, value: payload)) { result in
                        let now = wallClockMillis()
                        stats.record(latencyMs: now - sent, bytes: payload.count, now: now, index: index)
                        if case .failure(let error) = result { ToolOutput.error("\(error)") }
                    }
                }
                if throughput > 0 {
                    // Kafka's ThroughputThrottler: sleep whenever ahead of the target rate.
                    let due = start + .seconds(Double(index + 1) / Double(throughput))
                    if due > ContinuousClock.now { try await Task.sleep(until: due) }
                }
            }
        } catch {
            ToolOutput.error("\(error)")
        }
        await producer.close()
        stats.printTotal()
    }

    /// argparse4j's `nargs("+")`: `--producer-props a=1 b=2` is two values.
    static func expandingProps(_ arguments: [String]) -> [String] {
        var result: [String] = []
        var inProps = false
        for word in arguments {
            if word == "--producer-props" {
                inProps = true
                continue
            }
            if word.hasPrefix("-") { inProps = false }
            if inProps { result += ["--producer-props", word] } else { result.append(word) }
        }
        return result
    }
}

/// ProducerPerformance's `Stats`: 5 s windows and totals, latencies sampled as Kafka does.
final class PerfStats: Sendable {
    private struct State {
        var count = 0
        var bytes = 0
        var totalLatencyMs: Int64 = 0
        var maxLatencyMs: Int64 = 0
        var samples: [Int64] = []
        var windowStart = wallClockMillis()
        var windowCount = 0
        var windowBytes = 0
        var windowLatencyMs: Int64 = 0
        var windowMaxMs: Int64 = 0
    }

    private let state = Mutex(State())
    private let start = ContinuousClock.now
    private let sampling: Int

    init(records: Int) {
        self.sampling = max(records / max(min(records, 500_000), 1), 1)
    }

    /// One record's answer: its latency in whole milliseconds and the wall-clock time `now`, as Kafka's `Stats.record`
    /// (which samples by send order, `index`; without one, by answer order).
    func record(latencyMs: Int64, bytes: Int, now: Int64, index: Int? = nil) {
        let line: String? = self.state.withLock { state in
            if (index ?? state.count) % self.sampling == 0 { state.samples.append(latencyMs) }
            state.count += 1
            state.bytes += bytes
            state.totalLatencyMs += latencyMs
            state.maxLatencyMs = max(state.maxLatencyMs, latencyMs)
            state.windowCount += 1
            state.windowBytes += bytes
            state.windowLatencyMs += latencyMs
            state.windowMaxMs = max(state.windowMaxMs, latencyMs)
            guard now - state.windowStart >= 5_000 else { return nil }
            let seconds = Double(now - state.windowStart) / 1000
            let text = String(format: "%d records sent, %.1f records/sec (%.2f MB/sec), %.1f ms avg latency, %.1f ms max latency.",
                              state.windowCount, Double(state.windowCount) / seconds, Double(state.windowBytes) / seconds / 1_048_576,
                              Double(state.windowLatencyMs) / Double(state.windowCount), Double(state.windowMaxMs))
            state.windowStart = now
            state.windowCount = 0
            state.windowBytes = 0
            state.windowLatencyMs = 0
            state.windowMaxMs = 0
            return text
        }
        if let line { print(line) }
    }

    func printTotal() {
        let elapsed = ContinuousClock.now - self.start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        self.state.withLock { state in
            let sorted = state.samples.sorted()
            func percentile(_ p: Double) -> Int { sorted.isEmpty ? 0 : Int(sorted[min(Int(p * Double(sorted.count)), sorted.count - 1)]) }
            print(String(format: "%d records sent, %f records/sec (%.2f MB/sec), %.2f ms avg latency, %.2f ms max latency, %d ms 50th, %d ms 95th, %d ms 99th, %d ms 99.9th.",
                         state.count, Double(state.count) / seconds, Double(state.bytes) / seconds / 1_048_576,
                         state.count == 0 ? 0 : Double(state.totalLatencyMs) / Double(state.count), Double(state.maxLatencyMs),
                         percentile(0.5), percentile(0.95), percentile(0.99), percentile(0.999)))
        }
    }
}

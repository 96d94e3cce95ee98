import ArgumentParser
import Foundation
import KafkaClient
import KafkaModel

/// `kafka-log-dirs.sh --describe`: every broker's log directories and the replicas in them, as Kafka 2.8's
/// LogDirsCommand prints them (two progress lines, then one line of JSON).
struct LogDirsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log-dirs",
        abstract: "Query log directory usage on brokers (kafka-log-dirs.sh).",
        discussion: "Takes Kafka's options, with one dash or two; see --help."
    )

    @Argument(parsing: .captureForPassthrough, help: "Kafka's LogDirsCommand options.")
    var arguments: [String] = []

    static let specs: [KafkaOptions.Spec] = [
        .value("bootstrap-server", "String: The server(s) to use for bootstrapping", "REQUIRED: the server(s) to use for bootstrapping"),
        .value("command-config", "String: Admin client property file", "Property file containing configs to be passed to Admin Client."),
        .flag("describe", "Describe the specified log directories on the specified brokers."),
        .value("topic-list", "String: Topic list", "The list of topics to be queried in the form \"topic1,topic2,topic3\". All topics will be queried if no topic list is specified", default: ""),
        .value("broker-list", "String: Broker list", "The list of brokers to be queried in the form \"0,1,2\". All brokers in the cluster will be queried if no broker list is specified"),
    ]

    func run() async throws {
        guard let options = try KafkaOptions.parseTool(
            self.arguments, specs: Self.specs, about: "This tool helps to query log directory usage on the specified brokers.",
            check: { options throws(KafkaOptions.UsageError) in
                _ = try options.require("bootstrap-server")
                guard options.has("describe") else { throw KafkaOptions.UsageError(message: "Missing required argument \"[describe]\"") }
                if let list = options.value("broker-list"), list.split(separator: ",").contains(where: { Int32($0.trimmingCharacters(in: .whitespaces)) == nil }) {
                    throw KafkaOptions.UsageError(message: "The broker list must be comma-separated broker ids, found: \(list)")
                }
            }) else { return }
        let topics = Set((options.value("topic-list") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        do {
            let cluster = try KafkaCluster(bootstrapServers: options.value("bootstrap-server")!, clientId: "log-dirs-tool")
            defer { Task { await cluster.close() } }
            let admin = KafkaAdmin(cluster: cluster)
            let brokers: [Int32]
            if let list = options.value("broker-list") {
                brokers = list.split(separator: ",").compactMap { Int32($0.trimmingCharacters(in: .whitespaces)) }
            } else {
                brokers = try await admin.describeCluster().brokers.keys.sorted()
            }
            print("Querying brokers for log directories information")
            var described: [(Int32, [KafkaAdmin.LogDirectory])] = []
            for broker in brokers {
                described.append((broker, try await admin.describeLogDirs(broker: broker)))
            }
            print("Received log directory information from brokers \(brokers.map(String.init).joined(separator: ","))")
            print(Self.json(described, topics: topics))
        } catch let error as ExitCode {
            throw error
        } catch {
            ToolOutput.error("Error while querying log directories: \(error)")
            throw ExitCode(1)
        }
    }

    /// Kafka's compact JSON, keys in its order: version, brokers[broker, logDirs[logDir, error, partitions[partition,
    /// size, offsetLag, isFuture]]].
    static func json(_ described: [(Int32, [KafkaAdmin.LogDirectory])], topics: Set<String>) -> String {
        let brokers = described.map { broker, directories in
            let logDirs = directories.map { directory in
                let partitions = directory.replicas
                    .filter { topics.isEmpty || topics.contains($0.partition.topic) }
                    .sorted { $0.partition < $1.partition }
                    .map { "{\"partition\":\(quoted("\($0.partition.topic)-\($0.partition.partition)")),\"size\":\($0.size),\"offsetLag\":\($0.offsetLag),\"isFuture\":\($0.isFuture)}" }
                let error = directory.error.map { quoted(Self.exceptionName($0)) } ?? "null"
                return "{\"logDir\":\(quoted(directory.path)),\"error\":\(error),\"partitions\":[\(partitions.joined(separator: ","))]}"
            }
            return "{\"broker\":\(broker),\"logDirs\":[\(logDirs.joined(separator: ","))]}"
        }
        return "{\"version\":1,\"brokers\":[\(brokers.joined(separator: ","))]}"
    }

    /// The exception class Kafka's admin client names for a directory's error.
    static func exceptionName(_ code: ErrorCode) -> String {
        code == .kafkaStorageError ? "org.apache.kafka.common.errors.KafkaStorageException" : "org.apache.kafka.common.errors.ApiException: \(code.name)"
    }

    /// A JSON string literal, slashes unescaped as Jackson writes them.
    private static func quoted(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: text, options: [.fragmentsAllowed, .withoutEscapingSlashes])) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

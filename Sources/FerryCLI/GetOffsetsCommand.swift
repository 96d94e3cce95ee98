import ArgumentParser
import Foundation
import KafkaClient
import KafkaModel

/// `kafka-get-offsets.sh` (Kafka 3.x's GetOffsetShell; 2.8's `--broker-list` form too): `topic:partition:offset` for
/// each selected partition, at `--time` -1 (latest), -2 (earliest) or a timestamp in ms.
struct GetOffsetsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get-offsets",
        abstract: "Print partition offsets (kafka-get-offsets.sh, GetOffsetShell).",
        discussion: "Takes Kafka's options, with one dash or two; see --help."
    )

    @Argument(parsing: .captureForPassthrough, help: "Kafka's GetOffsetShell options.")
    var arguments: [String] = []

    static let specs: [KafkaOptions.Spec] = [
        .value("bootstrap-server", "String: HOST1:PORT1,...,HOST3:PORT3", "REQUIRED. The server(s) to connect to in the form HOST1:PORT1,HOST2:PORT2."),
        .value("broker-list", "String: HOST1:PORT1,...,HOST3:PORT3", "DEPRECATED, use --bootstrap-server instead; ignored if --bootstrap-server is specified. The server(s) to connect to in the form HOST1:PORT1,HOST2:PORT2."),
        .value("topic", "String: topic", "The topic to get the offsets for. It also accepts a regular expression. If not present, all authorized topics are queried. Cannot be used if --topic-partitions is present."),
        .value("partitions", "String: partition ids", "Comma separated list of partition ids to get the offsets for. If not present, all partitions of the authorized topics are queried. Cannot be used if --topic-partitions is present."),
        .value("time", "String: <timestamp> / -1 or latest / -2 or earliest",
               "timestamp of the offsets before that. [Note: No offset is returned, if the timestamp greater than recently committed record timestamp is given.]", default: "latest"),
        .flag("exclude-internal-topics", "By default, internal topics are included. If specified, internal topics are excluded."),
        .value("command-config", "String: config file", "Property file containing configs to be passed to Admin Client."),
    ]

    func run() async throws {
        let options: KafkaOptions
        let bootstrap: String
        let time: Int64
        let partitionFilter: Set<Int32>?
        do {
            options = try KafkaOptions(self.arguments, specs: Self.specs)
            if options.has("version") {
                print(FerryTools.version)
                return
            }
            if self.arguments.isEmpty || options.has("help") { throw KafkaOptions.UsageError(message: "An interactive shell for getting topic-partition offsets.") }
            guard let servers = options.value("bootstrap-server") ?? options.value("broker-list") else {
                throw KafkaOptions.UsageError(message: "Missing required argument \"[bootstrap-server]\"")
            }
            bootstrap = servers
            switch options.value("time") ?? "latest" {
            case "latest", "-1": time = KafkaAdmin.latest
            case "earliest", "-2": time = KafkaAdmin.earliest
            case let text:
                guard let value = Int64(text) else { throw KafkaOptions.UsageError(message: "Malformed time argument \(text). Please use -1 or latest / -2 or earliest, or a specified long format timestamp") }
                time = value
            }
            if let text = options.value("partitions") {
                var ids = Set<Int32>()
                for entry in text.split(separator: ",") {
                    guard let id = Int32(entry.trimmingCharacters(in: .whitespaces)) else {
                        throw KafkaOptions.UsageError(message: "--partitions expects a comma separated list of numeric partition ids, but received: \(text)")
                    }
                    ids.insert(id)
                }
                partitionFilter = ids
            } else {
                partitionFilter = nil
            }
        } catch let error as KafkaOptions.UsageError {
            ToolOutput.usage(error.message, help: (try? KafkaOptions([], specs: Self.specs))?.help() ?? "")
            throw ExitCode(1)
        }
        do {
            let cluster = try KafkaCluster(bootstrapServers: bootstrap, clientId: "GetOffsetShell")
            defer { Task { await cluster.close() } }
            let admin = KafkaAdmin(cluster: cluster)
            let metadata = try await admin.describeCluster()
            var names = metadata.topics.values.filter { !(options.has("exclude-internal-topics") && $0.isInternal) }.map(\.name)
            if let pattern = options.value("topic") {
                let regex = try NSRegularExpression(pattern: "^(?:\(pattern))$")
                names = names.filter { regex.firstMatch(in: $0, range: NSRange($0.startIndex..., in: $0)) != nil }
            }
            var partitions: [TopicPartition] = []
            for name in names {
                for partition in metadata.topics[name]!.partitions where partitionFilter?.contains(partition.id) ?? true {
                    partitions.append(TopicPartition(name, partition.id))
                }
            }
            guard !partitions.isEmpty else {
                print("Error occurred: Could not match any topic-partitions with the specified filters")
                throw ExitCode(1)
            }
            let offsets = try await admin.listOffsets(partitions, timestamp: time)
            for partition in partitions.sorted() {
                let offset = offsets[partition].flatMap { $0 }.map { String($0.offset) } ?? ""
                print("\(partition.topic):\(partition.partition):\(offset)")
            }
        } catch let error as ExitCode {
            throw error
        } catch {
            print("Error occurred: \(error)")
            throw ExitCode(1)
        }
    }
}

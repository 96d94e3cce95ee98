import ArgumentParser
import Coordination
import Foundation
import KafkaClient
import KafkaModel
import ZooKeeper

/// `kafka-topics.sh`: create, list, describe, alter (grow) and delete topics, with Kafka 2.8's options, output and
/// exit codes. `--zookeeper` reads and writes the znodes directly, as Kafka's tool did (the controller acts on
/// them); `--bootstrap-server` goes through the admin API, as Kafka's `AdminClientTopicService`.
struct TopicsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics",
        abstract: "Create, delete, describe, or change a topic (kafka-topics.sh).",
        discussion: "Takes Kafka's options, with one dash or two; see --help."
    )

    @Argument(parsing: .captureForPassthrough, help: "Kafka's kafka-topics.sh options.")
    var arguments: [String] = []

    static let specs: [KafkaOptions.Spec] = [
        .value("bootstrap-server", "String: server to connect to",
               "REQUIRED: The Kafka server to connect to. In case of providing this, a direct Zookeeper connection won't be required."),
        .value("zookeeper", "String: hosts",
               "DEPRECATED, The connection string for the zookeeper connection in the form host:port. Multiple hosts can be given to allow fail-over."),
        .flag("list", "List all available topics."),
        .flag("create", "Create a new topic."),
        .flag("delete", "Delete a topic"),
        .flag("alter", "Alter the number of partitions, replica assignment, and/or configuration for the topic."),
        .flag("describe", "List details for the given topics."),
        .value("topic", "String: topic",
               "The topic to create, alter, describe or delete. It also accepts a regular expression, except for --create option."),
        .value("partitions", "Integer: # of partitions",
               "The number of partitions for the topic being created or altered (WARNING: If partitions are increased for a topic that has a key, the partition logic or ordering of the messages will be affected)."),
        .value("replication-factor", "Integer: replication factor",
               "The replication factor for each partition in the topic being created."),
        .value("replica-assignment", "String: broker_id_for_part1_replica1 : broker_id_for_part1_replica2 , broker_id_for_part2_replica1 : broker_id_for_part2_replica2 , ...",
               "A list of manual partition-to-broker assignments for the topic being created or altered."),
        .value("config", "String: name=value", "A topic configuration override for the topic being created or altered."),
        .flag("if-exists", "if set when altering or deleting or describing topics, the action will only execute if the topic exists."),
        .flag("if-not-exists", "if set when creating topics, the action will only execute if the topic does not already exist."),
        .flag("under-replicated-partitions", "if set when describing topics, only show under replicated partitions"),
        .flag("unavailable-partitions", "if set when describing topics, only show partitions whose leader is not available"),
        .flag("topics-with-overrides", "if set when describing topics, only show topics that have overridden configs"),
        .flag("exclude-internal", "exclude internal topics when running list or describe command. The internal topics will be listed by default"),
        .flag("disable-rack-aware", "Disable rack aware replica assignment"),
        .flag("force", "Suppress console prompts"),
    ]

    func run() async throws {
        let options: KafkaOptions
        do {
            options = try KafkaOptions(self.arguments, specs: Self.specs)
            if options.has("version") {
                print(FerryTools.version)
                return
            }
            if self.arguments.isEmpty { throw KafkaOptions.UsageError(message: "Create, delete, describe, or change a topic.") }
            if options.has("help") { throw KafkaOptions.UsageError(message: "This tool helps to create, delete, describe, or change a topic.") }
            try Self.check(options)
        } catch let error as KafkaOptions.UsageError {
            ToolOutput.usage(error.message, help: (try? KafkaOptions([], specs: Self.specs))?.help() ?? "")
            throw ExitCode(1)
        }
        do {
            if let connect = options.value("zookeeper") {
                let client = try await ZooKeeperClient.connect(
                    ZooKeeperClient.Configuration(connectString: ConnectString(parsing: connect), connectionTimeout: .seconds(30)))
                defer { Task { await client.close() } }
                try await ZooKeeperTopicCommand(client: client, options: options).run()
            } else {
                let cluster = try KafkaCluster(bootstrapServers: options.value("bootstrap-server")!, clientId: "adminclient-1")
                defer { Task { await cluster.close() } }
                try await AdminTopicCommand(admin: KafkaAdmin(cluster: cluster), options: options).run()
            }
        } catch let failure as TopicCommandFailure {
            print("Error while executing topic command : \(failure.message)")
            throw ExitCode(1)
        } catch let error as ExitCode {
            throw error
        } catch let error as ZooKeeperError where error.code == .connectionTimeout {
            print("Error while executing topic command : Timed out waiting for connection while in state: CONNECTING")
            throw ExitCode(1)
        } catch {
            print("Error while executing topic command : \(error)")
            throw ExitCode(1)
        }
    }

    /// Kafka's `TopicCommandOptions.checkArgs`, in its order.
    static func check(_ options: KafkaOptions) throws(KafkaOptions.UsageError) {
        let actions = ["list", "describe", "create", "alter", "delete"].filter(options.has)
        guard actions.count == 1 else {
            throw KafkaOptions.UsageError(message: "Command must include exactly one action: --list, --describe, --create, --alter or --delete")
        }
        guard options.has("bootstrap-server") != options.has("zookeeper") else {
            throw KafkaOptions.UsageError(message: "Only one of --bootstrap-server or --zookeeper must be specified")
        }
        let action = actions[0]
        if action != "list" && action != "describe" { _ = try options.require("topic") }
        if action == "create" && options.has("zookeeper") && !options.has("replica-assignment") {
            _ = try options.require("partitions")
            _ = try options.require("replication-factor")
        }
        if action == "alter" && options.has("bootstrap-server") { _ = try options.require("partitions") }
        if options.has("replication-factor") && action != "create" {
            throw KafkaOptions.UsageError(message: "Option \"[replication-factor]\" can't be used with option \"[\(action)]\"")
        }
        if options.has("if-not-exists") && action != "create" {
            throw KafkaOptions.UsageError(message: "Option \"[if-not-exists]\" can't be used with option \"[\(action)]\"")
        }
        if options.has("replica-assignment") && action == "create" && (options.has("partitions") || options.has("replication-factor")) {
            throw KafkaOptions.UsageError(message: "Option \"[replica-assignment]\" can't be used with option \"[partitions],[replication-factor]\"")
        }
        _ = try options.integer("partitions")
        _ = try options.integer("replication-factor")
    }
}

/// A failure the tool reports as Kafka's does: `Error while executing topic command : <message>`, exit 1.
struct TopicCommandFailure: Error {
    var message: String
}

/// Where Kafka's tools write what.
enum ToolOutput {
    /// A usage error: the message, then the help, on stderr (`printUsageAndDie`).
    static func usage(_ message: String, help: String) {
        FileHandle.standardError.write(Data((message + "\n" + help + "\n").utf8))
    }

    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// The `--zookeeper` half of kafka-topics: Kafka's `ZookeeperTopicService`.
struct ZooKeeperTopicCommand {
    let client: ZooKeeperClient
    let options: KafkaOptions
    var admin: TopicAdmin { TopicAdmin(client: self.client) }

    func run() async throws {
        if self.options.has("create") {
            try await self.create()
        } else if self.options.has("list") {
            for line in try await self.listing() { print(line) }
        } else if self.options.has("describe") {
            for line in try await self.describe() { print(line) }
        } else if self.options.has("alter") {
            try await self.alter()
        } else if self.options.has("delete") {
            try await self.delete()
        }
    }

    private func liveBrokers() async throws -> [ReplicaAssignment.Broker] {
        try await self.admin.liveBrokers(rackAware: !self.options.has("disable-rack-aware"))
    }

    /// `1:2,2:3` → partition 0 on brokers 1 and 2, partition 1 on 2 and 3 (Kafka's `parseReplicaAssignment`).
    static func replicaAssignment(_ text: String) throws -> [[Int32]] {
        try text.split(separator: ",").map { partition in
            let replicas = try partition.split(separator: ":").map { id -> Int32 in
                guard let value = Int32(id.trimmingCharacters(in: .whitespaces)) else {
                    throw TopicCommandFailure(message: "For input string: \"\(id)\"")
                }
                return value
            }
            if let duplicate = replicas.first(where: { id in replicas.filter { $0 == id }.count > 1 }) {
                throw TopicCommandFailure(message: "Partition replica lists may not contain duplicate entries: \(duplicate)")
            }
            return replicas
        }
    }

    private func configs() throws -> [String: String] { try Self.configs(self.options) }

    /// The `--config k=v` overrides.
    static func configs(_ options: KafkaOptions) throws -> [String: String] {
        var result: [String: String] = [:]
        for entry in options.all("config") {
            guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else {
                throw TopicCommandFailure(message: "Invalid topic config: all configs to be added must be in the format \"key=val\".")
            }
            result[String(entry[..<equals])] = String(entry[entry.index(after: equals)...])
        }
        return result
    }

    private func create() async throws {
        let topic = self.options.value("topic")!
        if topic.contains(".") || topic.contains("_") {
            print("WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') could collide. To avoid issues it is best to use either, but not both.")
        }
        let explicit = try self.options.value("replica-assignment").map(Self.replicaAssignment)
        let assignment = explicit.map { lists in
            Dictionary(uniqueKeysWithValues: lists.enumerated().map { (Int32($0.offset), $0.element) })
        }
        let config = try self.configs()
        do {
            try TopicConfigRules.validate(config, topic: topic)
        } catch {
            throw TopicCommandFailure(message: error.message)
        }
        do {
            try await self.admin.create(
                name: topic, partitions: try self.options.integer("partitions") ?? assignment?.count ?? 1,
                replicationFactor: try self.options.integer("replication-factor") ?? explicit?.first?.count ?? 1,
                brokers: try await self.liveBrokers(), assignment: assignment, config: config)
        } catch let failure as TopicAdmin.Failure where failure.code == .topicAlreadyExists && self.options.has("if-not-exists") {
            return
        } catch let failure as TopicAdmin.Failure {
            throw TopicCommandFailure(message: failure.message)
        }
        print("Created topic \(topic).")
    }

    /// Every topic, sorted; those pending deletion marked as Kafka marks them.
    private func listing() async throws -> [String] {
        let marked = Set(try await self.client.children(ZNodes.deleteTopics))
        return try await self.topics().map { marked.contains($0) ? "\($0) - marked for deletion" : $0 }
    }

    /// The topics `--topic` names (a regular expression; `,` separates alternatives as in Kafka's IncludeList).
    private func topics() async throws -> [String] {
        try Self.select(try await self.client.children(ZNodes.brokerTopics), self.options)
    }

    /// Those of `all` that `--topic` names, sorted (a regular expression; `,` separates alternatives as in Kafka's
    /// IncludeList), without internal topics under `--exclude-internal`.
    static func select(_ all: [String], _ options: KafkaOptions) throws -> [String] {
        var all = all.sorted()
        if options.has("exclude-internal") { all.removeAll { $0.hasPrefix("__") } }
        guard let pattern = options.value("topic") else { return all }
        let cleaned = pattern.trimmingCharacters(in: CharacterSet(charactersIn: "\"' ")).replacingOccurrences(of: ",", with: "|")
        guard let regex = try? NSRegularExpression(pattern: "^(?:\(cleaned))$") else {
            throw TopicCommandFailure(message: "Invalid regular expression: \(pattern)")
        }
        return all.filter { regex.firstMatch(in: $0, range: NSRange($0.startIndex..., in: $0)) != nil }
    }

    /// The topics named, or Kafka's error when a named topic matches none (unless `--if-exists`).
    private func namedTopics() async throws -> [String] {
        let topics = try await self.topics()
        if topics.isEmpty, let name = self.options.value("topic"), !self.options.has("if-exists") {
            throw TopicCommandFailure(message: "Topic '\(name)' does not exist as expected")
        }
        return topics
    }

    private func describe() async throws -> [String] {
        let live = Set(try await self.client.children(ZNodes.brokerIds).compactMap(Int32.init))
        let marked = Set(try await self.client.children(ZNodes.deleteTopics))
        let underReplicated = self.options.has("under-replicated-partitions")
        let unavailable = self.options.has("unavailable-partitions")
        var lines: [String] = []
        for topic in try await self.namedTopics() {
            guard let node = try await self.client.getIfExists(ZNodes.topic(topic)) else {
                lines.append("Topic \(topic) doesn't exist!")
                continue
            }
            let assignment = try TopicAssignment.decode(node.data, topic: topic)
            let config = try await self.admin.topicConfig(topic)
            if self.options.has("topics-with-overrides") && config.isEmpty { continue }
            let suffix = marked.contains(topic) ? "\tMarkedForDeletion: true" : ""
            if !underReplicated && !unavailable {
                let configs = config.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
                lines.append(
                    "Topic: \(topic)\tPartitionCount: \(assignment.partitions.count)\tReplicationFactor: \(assignment.partitions[0]?.count ?? 0)\tConfigs: \(configs)\(suffix)")
            }
            if self.options.has("topics-with-overrides") { continue }
            for (partition, replicas) in assignment.partitions.sorted(by: { $0.key < $1.key }) {
                let state = try await self.client.getIfExists(ZNodes.partitionState(topic, partition))
                    .flatMap { try? PartitionStateZNode.decode($0.data, topic: topic, partition: partition) }
                let leader = state.map(\.leader).flatMap { $0 >= 0 ? $0 : nil }
                let isr = state?.isr ?? []
                if underReplicated && isr.count >= replicas.count { continue }
                if unavailable && leader.map(live.contains) == true { continue }
                lines.append(
                    "\tTopic: \(topic)\tPartition: \(partition)\tLeader: \(leader.map(String.init) ?? "none")\tReplicas: \(replicas.map(String.init).joined(separator: ","))\tIsr: \(isr.map(String.init).joined(separator: ","))\(suffix)")
            }
        }
        return lines
    }

    private func alter() async throws {
        let topics = try await self.namedTopics()
        for topic in topics {
            if let count = try self.options.integer("partitions") {
                if topic.hasPrefix("__") {
                    throw TopicCommandFailure(message: "The number of partitions for the internal topic \(topic) cannot be changed.")
                }
                print("WARNING: If partitions are increased for a topic that has a key, the partition logic or ordering of the messages will be affected")
                let existing = try TopicAssignment.decode(try await self.client.get(ZNodes.topic(topic)).data, topic: topic).partitions.count
                guard count > existing else {
                    throw TopicCommandFailure(message:
                        "The number of partitions for a topic can only be increased. Topic \(topic) currently has \(existing) partitions, \(count) would not be an increase.")
                }
                let explicit = try self.options.value("replica-assignment").map(Self.replicaAssignment)
                do {
                    try await self.admin.addPartitions(
                        topic, count: count, assignment: explicit.map { Array($0.dropFirst(existing)) }, brokers: try await self.liveBrokers())
                } catch let failure as TopicAdmin.Failure {
                    throw TopicCommandFailure(message: failure.message)
                }
                print("Adding partitions succeeded!")
            }
        }
    }

    private func delete() async throws {
        for topic in try await self.namedTopics() {
            if topic.hasPrefix("__") {
                throw TopicCommandFailure(message: "Topic \(topic) is a kafka internal topic and is not allowed to be marked for deletion.")
            }
            if try await self.client.exists(ZNodes.deleteTopic(topic)) != nil {
                print("Topic \(topic) is already marked for deletion.")
                continue
            }
            do {
                try await self.admin.markForDeletion(topic)
            } catch let failure as TopicAdmin.Failure {
                throw TopicCommandFailure(message: failure.message)
            }
            print("Topic \(topic) is marked for deletion.")
            print("Note: This will have no impact if delete.topic.enable is not set to true.")
        }
    }
}

import KafkaClient
import KafkaModel

/// The `--bootstrap-server` half of kafka-topics: Kafka 2.8's `AdminClientTopicService`, over the admin API.
struct AdminTopicCommand {
    let admin: KafkaAdmin
    let options: KafkaOptions

    func run() async throws {
        do {
            if self.options.has("create") {
                try await self.create()
            } else if self.options.has("list") {
                // Kafka prints the names joined by newlines: an empty cluster gives one empty line.
                print(try self.topics(in: try await self.admin.describeCluster(), named: false).joined(separator: "\n"))
            } else if self.options.has("describe") {
                for line in try await self.describe() { print(line) }
            } else if self.options.has("alter") {
                try await self.alter()
            } else if self.options.has("delete") {
                let topics = try self.topics(in: try await self.admin.describeCluster(), named: true)
                if let internalTopic = topics.first(where: { $0.hasPrefix("__") }) {
                    throw TopicCommandFailure(message: "Topic \(internalTopic) is a kafka internal topic and is not allowed to be marked for deletion.")
                }
                if !topics.isEmpty { try await self.admin.deleteTopics(topics) }
            }
        } catch let error as KafkaClientError {
            throw TopicCommandFailure(message: error.message)
        }
    }

    /// The topics `--topic` selects; with `named`, Kafka's error when it selects none (unless `--if-exists`).
    private func topics(in metadata: ClusterMetadata, named: Bool) throws -> [String] {
        let topics = try ZooKeeperTopicCommand.select(Array(metadata.topics.keys), self.options)
        if named, topics.isEmpty, let name = self.options.value("topic"), !self.options.has("if-exists") {
            throw TopicCommandFailure(message: "Topic '\(name)' does not exist as expected")
        }
        return topics
    }

    private func create() async throws {
        let topic = self.options.value("topic")!
        let partitions = try self.options.integer("partitions")
        let replicationFactor = try self.options.integer("replication-factor")
        // The admin client's own checks, before anything is sent.
        if let replicationFactor, !(1...32767).contains(replicationFactor) {
            throw TopicCommandFailure(message: "The replication factor must be between 1 and 32767 inclusive")
        }
        if let partitions, partitions < 1 { throw TopicCommandFailure(message: "The partitions must be greater than 0") }
        if topic.contains(".") || topic.contains("_") {
            print("WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') could collide. To avoid issues it is best to use either, but not both.")
        }
        let assignment = try self.options.value("replica-assignment").map(ZooKeeperTopicCommand.replicaAssignment)
        do {
            try await self.admin.createTopic(
                topic, partitions: partitions.map { Int32($0) }, replicationFactor: replicationFactor.map { Int16($0) }, assignment: assignment,
                configs: try ZooKeeperTopicCommand.configs(self.options))
        } catch let error as KafkaClientError where error.code == .topicAlreadyExists && self.options.has("if-not-exists") {
            return
        }
        print("Created topic \(topic).")
    }

    private func describe() async throws -> [String] {
        let metadata = try await self.admin.describeCluster()
        let underReplicated = self.options.has("under-replicated-partitions")
        let unavailable = self.options.has("unavailable-partitions")
        var lines: [String] = []
        let names = try self.topics(in: metadata, named: true)
        let allConfigs = try await self.admin.describeConfigs(.topic, names)
        for name in names {
            guard let topic = metadata.topics[name] else { continue }
            if topic.error != .none && topic.partitions.isEmpty {
                throw TopicCommandFailure(message: "\(topic.error.message)")
            }
            // As Kafka's describe: every entry not at its default, static broker settings included.
            let configs = (allConfigs[name] ?? []).filter { $0.source != .defaultConfig && !$0.isSensitive }
            if self.options.has("topics-with-overrides") && !configs.contains(where: { $0.source == .dynamicTopicConfig }) { continue }
            if !underReplicated && !unavailable {
                var line = "Topic: \(name)"
                if topic.id != .zero { line += "\tTopicId: \(topic.id)" }
                line += "\tPartitionCount: \(topic.partitions.count)\tReplicationFactor: \(topic.partitions.first?.replicas.count ?? 0)"
                line += "\tConfigs: " + configs.map { "\($0.name)=\($0.value ?? "")" }.joined(separator: ",")
                lines.append(line)
            }
            if self.options.has("topics-with-overrides") { continue }
            for partition in topic.partitions {
                let leaderLive = partition.leader >= 0 && metadata.brokers[partition.leader] != nil
                if underReplicated && partition.isr.count >= partition.replicas.count { continue }
                if unavailable && leaderLive { continue }
                let ids = { (list: [Int32]) in list.map(String.init).joined(separator: ",") }
                lines.append(
                    "\tTopic: \(name)\tPartition: \(partition.id)\tLeader: \(partition.leader >= 0 ? String(partition.leader) : "none")\tReplicas: \(ids(partition.replicas))\tIsr: \(ids(partition.isr))")
            }
        }
        return lines
    }

    private func alter() async throws {
        let metadata = try await self.admin.describeCluster()
        for name in try self.topics(in: metadata, named: true) {
            guard let count = try self.options.integer("partitions") else { continue }
            if name.hasPrefix("__") {
                throw TopicCommandFailure(message: "The number of partitions for the internal topic \(name) cannot be changed.")
            }
            let existing = metadata.topics[name]?.partitions.count ?? 0
            let assignment = try self.options.value("replica-assignment").map { Array(try ZooKeeperTopicCommand.replicaAssignment($0).dropFirst(existing)) }
            try await self.admin.createPartitions(name, count: Int32(count), assignment: assignment)
        }
    }
}

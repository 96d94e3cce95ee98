import KafkaModel
import ZooKeeper

/// Creates topics the way Kafka's `AdminZkClient.createTopic` does (and `kafka-topics.sh --zookeeper` did):
/// validate, write `/config/topics/<t>`, then `/brokers/topics/<t>` with the replica assignment. The controller
/// turns the new assignment into partition states and leaders.
public struct TopicCreator: Sendable {
    let client: ZooKeeperClient

    public init(client: ZooKeeperClient) {
        self.client = client
    }

    /// Why a topic cannot be created, with the Kafka error code a client should see.
    public struct Failure: Error, Hashable, Sendable, CustomStringConvertible {
        public var code: ErrorCode
        public var message: String
        public var description: String { self.message }
    }

    /// Kafka's topic name rule: 1-249 characters of `[a-zA-Z0-9._-]`, not `.` or `..`.
    public static func validate(name: String) throws(Failure) {
        guard !name.isEmpty else { throw Failure(code: .invalidTopicException, message: "Topic name is illegal, it can't be empty") }
        guard name != "." && name != ".." else {
            throw Failure(code: .invalidTopicException, message: "Topic name cannot be \".\" or \"..\"")
        }
        guard name.count <= 249 else {
            throw Failure(code: .invalidTopicException, message: "Topic name is illegal, it can't be longer than 249 characters, topic name: \(name)")
        }
        guard name.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "." || $0 == "_" || $0 == "-") }) else {
            throw Failure(code: .invalidTopicException, message: "Topic name \(name) is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'")
        }
    }

    /// Validates and, unless `validateOnly`, writes a new topic.
    /// - Parameters:
    ///   - assignment: explicit replica lists by partition, or `nil` to compute Kafka's assignment over `brokers`.
    /// - Returns: the assignment written.
    /// - Throws: `Failure` with TOPIC_ALREADY_EXISTS, INVALID_TOPIC_EXCEPTION, INVALID_PARTITIONS,
    ///   INVALID_REPLICATION_FACTOR or INVALID_REPLICA_ASSIGNMENT.
    @discardableResult
    public func create(
        name: String, partitions: Int, replicationFactor: Int, brokers: [ReplicaAssignment.Broker],
        assignment: [Int32: [Int32]]? = nil, config: [String: String] = [:], validateOnly: Bool = false
    ) async throws -> [Int32: [Int32]] {
        try Self.validate(name: name)
        if try await self.client.exists(ZNodes.topic(name)) != nil {
            throw Failure(code: .topicAlreadyExists, message: "Topic '\(name)' already exists.")
        }
        if try await self.client.exists(ZNodes.deleteTopic(name)) != nil {
            throw Failure(code: .topicAlreadyExists, message: "Topic '\(name)' is marked for deletion.")
        }
        // Kafka refuses names that collide in metric names, where '.' and '_' are the same.
        let normalized = name.replacingDotsWithUnderscores()
        if let clash = try await self.client.children(ZNodes.brokerTopics).first(where: { $0.replacingDotsWithUnderscores() == normalized }) {
            throw Failure(code: .invalidTopicException, message: "Topic '\(name)' collides with existing topic: \(clash)")
        }
        let replicas: [Int32: [Int32]]
        if let assignment {
            try Self.check(assignment, live: Set(brokers.map(\.id)))
            replicas = assignment
        } else {
            do {
                replicas = try ReplicaAssignment.assign(brokers: brokers, partitions: partitions, replicationFactor: replicationFactor)
            } catch {
                switch error {
                case .invalidPartitions(let text): throw Failure(code: .invalidPartitions, message: text)
                case .invalidReplicationFactor(let text): throw Failure(code: .invalidReplicationFactor, message: text)
                case .invalidReplicaAssignment(let text): throw Failure(code: .invalidReplicaAssignment, message: text)
                }
            }
        }
        guard !validateOnly else { return replicas }
        let configPath = ZNodes.topicConfig(name)
        let configData = EntityConfigZNode(config: config).zNodeData()
        try await self.client.createRecursively(configPath, data: configData)
        try await self.client.set(configPath, data: configData)
        do {
            try await self.client.create(ZNodes.topic(name), data: TopicAssignment(partitions: replicas, topicId: KafkaUUID.random().description).zNodeData())
        } catch let error as ZooKeeperError where error.code == .nodeExists {
            throw Failure(code: .topicAlreadyExists, message: "Topic '\(name)' already exists.")
        }
        return replicas
    }

    /// Kafka's checks of an explicit assignment: partitions 0..n-1, one replica count, no duplicate broker.
    static func check(_ assignment: [Int32: [Int32]], live: Set<Int32>) throws(Failure) {
        guard !assignment.isEmpty, assignment.keys.sorted() == Array(0..<Int32(assignment.count)) else {
            throw Failure(code: .invalidReplicaAssignment, message: "Partitions should be a consecutive 0-based integer sequence")
        }
        guard Set(assignment.values.map(\.count)).count == 1, assignment.values.allSatisfy({ !$0.isEmpty }) else {
            throw Failure(code: .invalidReplicaAssignment, message: "All partitions should have the same number of replicas")
        }
        guard assignment.values.allSatisfy({ Set($0).count == $0.count }) else {
            throw Failure(code: .invalidReplicaAssignment, message: "Duplicate replica assignment found")
        }
    }
}

extension String {
    fileprivate func replacingDotsWithUnderscores() -> String { String(self.map { $0 == "." ? "_" : $0 }) }
}

import KafkaModel
import ZooKeeper

/// Topic administration through ZooKeeper, as Kafka's `AdminZkClient` (and `kafka-topics.sh --zookeeper`) does it:
/// - create: validate, write `/config/topics/<t>`, then `/brokers/topics/<t>` with the replica assignment;
/// - delete: mark `/admin/delete_topics/<t>`;
/// - add partitions: rewrite `/brokers/topics/<t>` with the old and the new partitions (compare-and-set).
/// The controller acts on each: partition states and leaders for new partitions, removal of marked topics.
public struct TopicAdmin: Sendable {
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

    /// The live brokers as ZooKeeper has them now, for placing replicas. Kafka's `AdminZkClient` reads
    /// `/brokers/ids` at each creation rather than a broker's cache, and so does this: a broker's watch on
    /// `/brokers/ids` can lag a registration that a client already saw succeed (a fresh-clone run had a topic with
    /// replication factor 3 refused by a controller that had heard of one broker of three). The sync makes the
    /// server this session reads from catch up with registrations made through other servers.
    /// - Parameter rackAware: `false` leaves the racks out (`--disable-rack-aware`).
    public func liveBrokers(rackAware: Bool = true) async throws -> [ReplicaAssignment.Broker] {
        try await self.client.sync(ZNodes.brokerIds)
        let ids = try await self.client.children(ZNodes.brokerIds).compactMap(Int32.init)
        let client = self.client
        let nodes = try await withThrowingTaskGroup(of: (Int32, NodeData?).self) { group in
            for id in ids { group.addTask { (id, try await client.getIfExists(ZNodes.broker(id))) } }
            return try await group.reduce(into: [(Int32, NodeData?)]()) { $0.append($1) }
        }
        return nodes.compactMap { id, node in
            guard let node else { return nil }  // gone between the two reads
            let rack = rackAware ? (try? BrokerRegistration.decode(node.data, id: id))?.rack : nil
            return ReplicaAssignment.Broker(id: id, rack: rack)
        }.sorted { $0.id < $1.id }
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

extension TopicAdmin {
    /// Marks a topic for deletion (`/admin/delete_topics/<t>`); the controller deletes it.
    /// - Throws: `Failure` with UNKNOWN_TOPIC_OR_PARTITION if the topic does not exist. A topic already marked is
    ///   not an error (Kafka answers such a repeat with success too).
    public func markForDeletion(_ name: String) async throws {
        guard try await self.client.exists(ZNodes.topic(name)) != nil else {
            throw Failure(code: .unknownTopicOrPartition, message: "This server does not host this topic-partition.")
        }
        do {
            try await self.client.createRecursively(ZNodes.deleteTopic(name))
        } catch let error as ZooKeeperError where error.code == .nodeExists {
            // Already marked: the deletion is under way.
        }
    }

    /// Grows a topic to `count` partitions (Kafka's `AdminZkClient.addPartitions`).
    /// - Parameters:
    ///   - assignment: replica lists for the new partitions, in partition order, or `nil` to compute them with Kafka's
    ///     placement continuing from the first replica of partition 0.
    /// - Returns: the new partitions' assignment.
    /// - Throws: `Failure` with UNKNOWN_TOPIC_OR_PARTITION, INVALID_TOPIC_EXCEPTION (marked for deletion),
    ///   INVALID_PARTITIONS, INVALID_REPLICA_ASSIGNMENT or INVALID_REPLICATION_FACTOR.
    @discardableResult
    public func addPartitions(
        _ name: String, count: Int, assignment: [[Int32]]? = nil, brokers: [ReplicaAssignment.Broker], validateOnly: Bool = false
    ) async throws -> [Int32: [Int32]] {
        guard let node = try await self.client.getIfExists(ZNodes.topic(name)) else {
            throw Failure(code: .unknownTopicOrPartition, message: "The topic '\(name)' does not exist.")
        }
        if try await self.client.exists(ZNodes.deleteTopic(name)) != nil {
            throw Failure(code: .invalidTopicException, message: "The topic '\(name)' is queued for deletion.")
        }
        var current = try TopicAssignment.decode(node.data, topic: name)
        let existing = current.partitions.count
        guard count > existing else {
            let message = count == existing
                ? "Topic already has \(existing) partitions."
                : "Topic currently has \(existing) partitions, which is higher than the requested \(count)."
            throw Failure(code: .invalidPartitions, message: message)
        }
        let replicationFactor = current.partitions[0]?.count ?? current.partitions.values.first?.count ?? 1
        let added: [Int32: [Int32]]
        if let assignment {
            guard assignment.count == count - existing else {
                throw Failure(
                    code: .invalidReplicaAssignment,
                    message: "Increasing the number of partitions by \(count - existing) but \(assignment.count) assignments provided.")
            }
            let live = Set(brokers.map(\.id))
            added = Dictionary(uniqueKeysWithValues: assignment.enumerated().map { (Int32(existing + $0.offset), $0.element) })
            for (partition, replicas) in added.sorted(by: { $0.key < $1.key }) {
                guard replicas.count == replicationFactor else {
                    throw Failure(
                        code: .invalidReplicaAssignment,
                        message: "Inconsistent replication factor between partitions, partition 0 has \(replicationFactor) while partition \(partition) has replication factor \(replicas.count)")
                }
                guard Set(replicas).count == replicas.count else {
                    throw Failure(code: .invalidReplicaAssignment, message: "Duplicate brokers not allowed in replica assignment: \(replicas) for partition id \(partition).")
                }
                let unknown = replicas.filter { !live.contains($0) }
                guard unknown.isEmpty else {
                    throw Failure(code: .invalidReplicaAssignment, message: "Unknown broker(s) in replica assignment: \(unknown.map(String.init).joined(separator: ", ")).")
                }
            }
        } else {
            // Kafka continues the round-robin from the broker that leads partition 0.
            let ids = brokers.map(\.id).sorted()
            let start = current.partitions[0]?.first.flatMap { first in ids.firstIndex { $0 >= first } } ?? -1
            do {
                added = try ReplicaAssignment.assign(
                    brokers: brokers, partitions: count - existing, replicationFactor: replicationFactor, fixedStartIndex: start,
                    firstPartition: existing)
            } catch {
                switch error {
                case .invalidPartitions(let text): throw Failure(code: .invalidPartitions, message: text)
                case .invalidReplicationFactor(let text): throw Failure(code: .invalidReplicationFactor, message: text)
                case .invalidReplicaAssignment(let text): throw Failure(code: .invalidReplicaAssignment, message: text)
                }
            }
        }
        guard !validateOnly else { return added }
        current.partitions.merge(added) { old, _ in old }
        do {
            try await self.client.set(ZNodes.topic(name), data: current.zNodeData(), version: node.stat.version)
        } catch let error as ZooKeeperError where error.code == .badVersion {
            // Changed meanwhile (another admin, or the controller): decide again on what is there now.
            return try await self.addPartitions(name, count: count, assignment: assignment, brokers: brokers, validateOnly: validateOnly)
        }
        return added
    }
}

extension TopicAdmin {
    /// A topic's config overrides as stored (empty if none).
    public func topicConfig(_ name: String) async throws -> [String: String] {
        guard let node = try await self.client.getIfExists(ZNodes.topicConfig(name)), !node.data.isEmpty else { return [:] }
        return try EntityConfigZNode.decode(node.data, path: ZNodes.topicConfig(name)).config
    }

    /// Replaces a topic's config overrides (`/config/topics/<t>`) and announces the change under `/config/changes`, as
    /// Kafka's `AdminZkClient.changeTopicConfig`.
    public func changeTopicConfig(_ name: String, to config: [String: String]) async throws {
        try await self.changeEntityConfig(path: ZNodes.topicConfig(name), entityPath: "topics/\(name)", to: config)
    }

    /// A broker's dynamic configs as stored (`/config/brokers/<id>`, or `<default>` for every broker; empty if none).
    public func brokerConfig(_ name: String) async throws -> [String: String] {
        guard let node = try await self.client.getIfExists(ZNodes.brokerConfig(name)), !node.data.isEmpty else { return [:] }
        return try EntityConfigZNode.decode(node.data, path: ZNodes.brokerConfig(name)).config
    }

    /// Replaces a broker's dynamic configs (`name` a broker id or `<default>`) and announces the change, as Kafka's
    /// `AdminZkClient.changeBrokerConfig`.
    public func changeBrokerConfig(_ name: String, to config: [String: String]) async throws {
        try await self.changeEntityConfig(path: ZNodes.brokerConfig(name), entityPath: "brokers/\(name)", to: config)
    }

    /// Writes an entity's config znode, then a `/config/changes` notification naming it. Announcements older than 15
    /// minutes are removed, as Kafka's brokers do.
    private func changeEntityConfig(path: String, entityPath: String, to config: [String: String]) async throws {
        let data = EntityConfigZNode(config: config).zNodeData()
        do {
            try await self.client.set(path, data: data)
        } catch let error as ZooKeeperError where error.code == .noNode {
            try await self.client.createRecursively(path, data: data)
        }
        try await self.client.createRecursively(ZNodes.configChanges)
        try await self.client.create(
            ZNodes.configChanges + "/config_change_", data: ConfigChangeNotification(entityPath: entityPath).zNodeData(),
            mode: .persistentSequential)
        try await self.purgeOldConfigChanges(olderThanMs: 15 * 60_000)
    }

    private func purgeOldConfigChanges(olderThanMs age: Int64) async throws {
        let now = wallClockMillis()
        for child in try await self.client.children(ZNodes.configChanges) {
            let path = ZNodes.configChanges + "/" + child
            guard let stat = try await self.client.exists(path), now - stat.ctime > age else { continue }
            try? await self.client.delete(path)
        }
    }
}

extension String {
    fileprivate func replacingDotsWithUnderscores() -> String { String(self.map { $0 == "." ? "_" : $0 }) }
}

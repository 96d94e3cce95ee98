import KafkaModel
import KafkaProtocol

/// Topic, partition, config and offset administration over the Kafka protocol: what Kafka's `Admin` client does for
/// the command-line tools. Every failure is a `KafkaClientError` carrying the broker's code and message.
public struct KafkaAdmin: Sendable {
    public let cluster: KafkaCluster
    /// How long the broker may take to act (CreateTopics, DeleteTopics and CreatePartitions `timeoutMs`).
    public var operationTimeoutMs: Int32 = 30_000

    public init(cluster: KafkaCluster) {
        self.cluster = cluster
    }

    /// Every topic's metadata (internal topics included).
    public func describeCluster() async throws -> ClusterMetadata {
        try await self.cluster.refreshMetadata()
    }

    /// Creates a topic. `partitions` and `replicationFactor` of `nil` take the broker's `num.partitions` and
    /// `default.replication.factor` (sent as -1, CreateTopics v4+); `assignment` (partition → replicas) replaces both.
    public func createTopic(
        _ name: String, partitions: Int32?, replicationFactor: Int16?, assignment: [[Int32]]? = nil, configs: [String: String] = [:]
    ) async throws {
        var topic = CreateTopicsRequest.CreatableTopic(name: name, numPartitions: partitions ?? -1, replicationFactor: replicationFactor ?? -1)
        if let assignment {
            topic.numPartitions = -1
            topic.replicationFactor = -1
            topic.assignments = assignment.enumerated().map { .init(partitionIndex: Int32($0.offset), brokerIds: $0.element) }
        }
        topic.configs = configs.sorted { $0.key < $1.key }.map { .init(name: $0.key, value: $0.value) }
        let request = CreateTopicsRequest(topics: [topic], timeoutMs: self.operationTimeoutMs)
        let response = try await self.toController(request, upTo: 5)
        for result in response.topics where result.errorCode != 0 {
            throw KafkaClientError.kafka(ErrorCode(rawValue: result.errorCode), message: result.errorMessage)
        }
    }

    /// Deletes topics; the first failure is thrown.
    public func deleteTopics(_ names: [String]) async throws {
        let request = DeleteTopicsRequest(topicNames: names, timeoutMs: self.operationTimeoutMs)
        let response = try await self.toController(request, upTo: 4)
        for result in response.responses where result.errorCode != 0 {
            throw KafkaClientError.kafka(ErrorCode(rawValue: result.errorCode), message: result.errorMessage)
        }
    }

    /// Grows a topic to `count` partitions, the new ones placed by the broker unless `assignment` lists them.
    public func createPartitions(_ name: String, count: Int32, assignment: [[Int32]]? = nil) async throws {
        let topic = CreatePartitionsRequest.CreatePartitionsTopic(name: name, count: count, assignments: assignment.map { $0.map { .init(brokerIds: $0) } })
        let request = CreatePartitionsRequest(topics: [topic], timeoutMs: self.operationTimeoutMs)
        let response = try await self.toController(request, upTo: 1)
        for result in response.results where result.errorCode != 0 {
            throw KafkaClientError.kafka(ErrorCode(rawValue: result.errorCode), message: result.errorMessage)
        }
    }

    /// One configuration entry as DescribeConfigs reports it.
    public struct ConfigEntry: Hashable, Sendable {
        public var name: String
        public var value: String?
        public var source: ConfigSource
        public var isReadOnly: Bool
        public var isSensitive: Bool
        /// Where the value comes from and what it overrides, most specific first (DescribeConfigs' synonyms).
        public var synonyms: [ConfigSynonym] = []
    }

    public struct ConfigSynonym: Hashable, Sendable {
        public var name: String
        public var value: String?
        public var source: ConfigSource
    }

    /// Kafka's `ConfigEntry.ConfigSource` numbering (DescribeConfigs v1+).
    public enum ConfigSource: Int8, Sendable {
        case unknown = 0, dynamicTopicConfig = 1, dynamicBrokerConfig = 2, dynamicDefaultBrokerConfig = 3, staticBrokerConfig = 4
        case defaultConfig = 5, dynamicBrokerLoggerConfig = 6
    }

    /// The resource types of DescribeConfigs and AlterConfigs.
    public enum ConfigResource: Int8, Sendable {
        case topic = 2, broker = 4
    }

    /// The configuration of a topic or broker, every entry with its source. Broker configs go to that broker.
    public func describeConfigs(_ type: ConfigResource, _ name: String) async throws -> [ConfigEntry] {
        try await self.describeConfigs(type, [name])[name] ?? []
    }

    /// The configurations of several topics (or of one broker), in one request.
    public func describeConfigs(_ type: ConfigResource, _ names: [String]) async throws -> [String: [ConfigEntry]] {
        guard !names.isEmpty else { return [:] }
        var request = DescribeConfigsRequest(resources: names.map { .init(resourceType: type.rawValue, resourceName: $0, configurationKeys: nil) })
        request.includeSynonyms = true
        let target: Int32? = type == .broker ? names.first.flatMap { Int32($0) } : nil
        let response = try await self.cluster.send(request, to: target, upTo: 2)
        var result: [String: [ConfigEntry]] = [:]
        for answer in response.results {
            guard answer.errorCode == 0 else { throw KafkaClientError.kafka(ErrorCode(rawValue: answer.errorCode), message: answer.errorMessage) }
            result[answer.resourceName] = answer.configs.map {
                ConfigEntry(name: $0.name, value: $0.value, source: ConfigSource(rawValue: $0.configSource) ?? ($0.isDefault ? .defaultConfig : .unknown),
                            isReadOnly: $0.readOnly, isSensitive: $0.isSensitive,
                            synonyms: $0.synonyms.map { ConfigSynonym(name: $0.name, value: $0.value, source: ConfigSource(rawValue: $0.source) ?? .unknown) })
            }
        }
        return result
    }

    /// Sets (`value`) or removes (`nil`) configuration entries of a topic or broker (IncrementalAlterConfigs).
    public func alterConfigs(_ type: ConfigResource, _ name: String, _ changes: [String: String?]) async throws {
        let configs = changes.sorted { $0.key < $1.key }.map { change in
            IncrementalAlterConfigsRequest.AlterConfigsResource.AlterableConfig(name: change.key, configOperation: change.value == nil ? 1 : 0, value: change.value ?? nil)
        }
        let request = IncrementalAlterConfigsRequest(resources: [.init(resourceType: type.rawValue, resourceName: name, configs: configs)])
        let target: Int32? = type == .broker ? Int32(name) : nil
        let response = try await self.cluster.send(request, to: target, upTo: 1)
        for result in response.responses where result.errorCode != 0 {
            throw KafkaClientError.kafka(ErrorCode(rawValue: result.errorCode), message: result.errorMessage)
        }
    }

    /// What ListOffsets answers for one partition.
    public struct OffsetAndTimestamp: Hashable, Sendable {
        public var offset: Int64
        public var timestamp: Int64
    }

    /// Kafka's special ListOffsets timestamps.
    public static let latest: Int64 = -1
    public static let earliest: Int64 = -2

    /// For each partition: the first offset whose timestamp is at or after `timestamp`, or the log end (`latest`) or
    /// start (`earliest`). A partition with no such record maps to `nil`. Each partition is asked of its leader.
    public func listOffsets(_ partitions: [TopicPartition], timestamp: Int64) async throws -> [TopicPartition: OffsetAndTimestamp?] {
        var metadata = try await self.cluster.refreshMetadata(topics: Array(Set(partitions.map(\.topic))))
        var result: [TopicPartition: OffsetAndTimestamp?] = [:]
        var pending = partitions
        for attempt in 0..<5 {
            var byLeader: [Int32: [TopicPartition]] = [:]
            for partition in pending {
                guard let leader = metadata.leader(of: partition) else {
                    if metadata.topics[partition.topic]?.partitions.contains(where: { $0.id == partition.partition }) != true {
                        throw KafkaClientError.kafka(.unknownTopicOrPartition, message: "Topic-partition \(partition) does not exist")
                    }
                    byLeader[-1, default: []].append(partition)
                    continue
                }
                byLeader[leader, default: []].append(partition)
            }
            var retry: [TopicPartition] = byLeader[-1] ?? []
            byLeader[-1] = nil
            for (leader, group) in byLeader {
                var request = ListOffsetsRequest(replicaId: -1)
                for (topic, members) in Dictionary(grouping: group, by: \.topic) {
                    request.topics.append(.init(name: topic, partitions: members.map { .init(partitionIndex: $0.partition, timestamp: timestamp) }))
                }
                let response = try await self.cluster.send(request, to: leader, upTo: 5)
                for topic in response.topics {
                    for answer in topic.partitions {
                        let partition = TopicPartition(topic.name, answer.partitionIndex)
                        let code = ErrorCode(rawValue: answer.errorCode)
                        if code == .none {
                            let offset = answer.oldStyleOffsets.first ?? answer.offset
                            result[partition] = offset < 0 ? .some(nil) : OffsetAndTimestamp(offset: offset, timestamp: answer.timestamp)
                        } else if code.isRetriable && attempt < 4 {
                            retry.append(partition)
                        } else {
                            throw KafkaClientError.kafka(code)
                        }
                    }
                }
            }
            guard !retry.isEmpty else { return result }
            pending = retry
            try await Task.sleep(for: .milliseconds(100 << attempt))
            metadata = try await self.cluster.refreshMetadata(topics: Array(Set(pending.map(\.topic))))
        }
        throw KafkaClientError(.timedOut, "No leader for \(pending.map(\.description).joined(separator: ", "))")
    }

    /// Sends a request that only the controller answers, following the controller if it moves.
    private func toController<Request: KafkaRequest>(_ request: Request, upTo highest: Int16) async throws -> Request.Response {
        var attempt = 0
        while true {
            let controller = try await self.cluster.controller()
            let response = try await self.cluster.send(request, to: controller, upTo: highest)
            if attempt < 3, Self.hasNotController(response) {
                attempt += 1
                try await Task.sleep(for: .milliseconds(100 * attempt))
                continue
            }
            return response
        }
    }

    private static func hasNotController(_ response: some KafkaResponse) -> Bool {
        let code = ErrorCode.notController.rawValue
        switch response {
        case let response as CreateTopicsResponse: return response.topics.contains { $0.errorCode == code }
        case let response as DeleteTopicsResponse: return response.responses.contains { $0.errorCode == code }
        case let response as CreatePartitionsResponse: return response.results.contains { $0.errorCode == code }
        default: return false
        }
    }
}

extension KafkaAdmin {
    /// One log directory of a broker, as DescribeLogDirs reports it.
    public struct LogDirectory: Sendable {
        public struct Replica: Sendable {
            public var partition: TopicPartition
            public var size: Int64
            public var offsetLag: Int64
            public var isFuture: Bool
        }

        public var path: String
        /// The directory's error, if the broker reports one (a failed disk: KAFKA_STORAGE_ERROR).
        public var error: ErrorCode?
        public var replicas: [Replica]
        /// The file system's size and free space, when the broker reports them (DescribeLogDirs v4).
        public var totalBytes: Int64?
        public var usableBytes: Int64?
    }

    /// The log directories of broker `id` and the replicas in them: all, or those of `topics`.
    public func describeLogDirs(broker id: Int32, topics: [String: [Int32]]? = nil) async throws -> [LogDirectory] {
        let request = DescribeLogDirsRequest(topics: topics.map { $0.sorted { $0.key < $1.key }.map { .init(topic: $0.key, partitions: $0.value) } })
        let response = try await self.cluster.send(request, to: id, upTo: 4)
        if response.errorCode != 0 { throw KafkaClientError.kafka(ErrorCode(rawValue: response.errorCode)) }
        return response.results.map { result in
            LogDirectory(
                path: result.logDir, error: result.errorCode == 0 ? nil : ErrorCode(rawValue: result.errorCode),
                replicas: result.topics.flatMap { topic in
                    topic.partitions.map { LogDirectory.Replica(partition: TopicPartition(topic.name, $0.partitionIndex), size: $0.partitionSize, offsetLag: $0.offsetLag, isFuture: $0.isFutureKey) }
                },
                totalBytes: result.totalBytes >= 0 ? result.totalBytes : nil, usableBytes: result.usableBytes >= 0 ? result.usableBytes : nil)
        }
    }
}

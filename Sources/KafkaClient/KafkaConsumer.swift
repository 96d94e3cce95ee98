import KafkaModel
import KafkaProtocol
import KafkaRecords
import Logging
import NIOCore

/// A fetched record.
public struct ConsumerRecord: Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var timestamp: Int64
    public var timestampType: TimestampType
    public var key: ByteBuffer?
    public var value: ByteBuffer?
    public var headers: [RecordHeader]
}

/// Reads records from partitions it is assigned, or that its group gives it, as Kafka's `KafkaConsumer`:
/// `assign` + `seek`, or `subscribe` with a `groupId` (the broker's group coordinator, the range assignor, heartbeats,
/// committed offsets). Positions start from the committed offset, else from `autoOffsetReset`.
///
/// An actor: `poll`, `commit` and the rest run one at a time, as the Java consumer is used from one thread; the
/// heartbeat runs beside them.
public actor KafkaConsumer {
    public enum OffsetReset: String, Sendable {
        case earliest, latest, none
    }

    public struct Configuration: Sendable {
        public var groupId: String?
        public var autoOffsetReset: OffsetReset = .latest
        public var enableAutoCommit = true
        public var autoCommitIntervalMs = 5_000
        public var sessionTimeoutMs: Int32 = 45_000
        public var rebalanceTimeoutMs: Int32 = 300_000
        public var heartbeatIntervalMs = 3_000
        public var fetchMaxWaitMs: Int32 = 500
        public var fetchMinBytes: Int32 = 1
        public var fetchMaxBytes: Int32 = 52_428_800
        public var maxPartitionFetchBytes: Int32 = 1_048_576
        public var maxPollRecords = 500

        public init(groupId: String? = nil) {
            self.groupId = groupId
        }

        /// Applies Kafka consumer properties (`group.id`, `auto.offset.reset`, `enable.auto.commit`, ...).
        /// - Throws: `KafkaClientError.invalidArgument` for a bad value; unknown keys are ignored.
        public mutating func apply(_ properties: [String: String]) throws(KafkaClientError) {
            for (key, raw) in properties {
                let value = raw.trimmingSpaces
                func integer() throws(KafkaClientError) -> Int {
                    guard let number = Int(value), number >= 0 else {
                        throw KafkaClientError(.invalidArgument, "Invalid value \(raw) for configuration \(key): Not a number of type INT")
                    }
                    return number
                }
                switch key {
                case "group.id": self.groupId = value.isEmpty ? nil : value
                case "auto.offset.reset":
                    guard let reset = OffsetReset(rawValue: value) else {
                        throw KafkaClientError(.invalidArgument, "Invalid value \(raw) for configuration auto.offset.reset: String must be one of: latest, earliest, none")
                    }
                    self.autoOffsetReset = reset
                case "enable.auto.commit": self.enableAutoCommit = value == "true"
                case "auto.commit.interval.ms": self.autoCommitIntervalMs = try integer()
                case "session.timeout.ms": self.sessionTimeoutMs = Int32(clamping: try integer())
                case "heartbeat.interval.ms": self.heartbeatIntervalMs = try integer()
                case "max.poll.interval.ms": self.rebalanceTimeoutMs = Int32(clamping: try integer())
                case "fetch.max.wait.ms": self.fetchMaxWaitMs = Int32(clamping: try integer())
                case "fetch.min.bytes": self.fetchMinBytes = Int32(clamping: try integer())
                case "fetch.max.bytes": self.fetchMaxBytes = Int32(clamping: try integer())
                case "max.partition.fetch.bytes": self.maxPartitionFetchBytes = Int32(clamping: try integer())
                case "max.poll.records": self.maxPollRecords = max(try integer(), 1)
                default: break
                }
            }
        }
    }

    public let cluster: KafkaCluster
    public let configuration: Configuration
    private let logger: Logger

    /// Where the next fetch of each assigned partition starts; absent until known.
    private var positions: [TopicPartition: Int64] = [:]
    private var assigned: [TopicPartition] = []
    private var subscription: [String] = []
    private var buffered: [ConsumerRecord] = []
    private var group: GroupMembership?
    /// The group's offsets handle while not subscribed (assign + commit), kept so its coordinator is found once.
    private var standaloneGroup: GroupMembership?
    private var lastAutoCommit = ContinuousClock.now
    private var committedPositions: [TopicPartition: Int64] = [:]

    public init(cluster: KafkaCluster, configuration: Configuration, logger: Logger = Logger(label: "ferry.consumer")) {
        self.cluster = cluster
        self.configuration = configuration
        self.logger = logger
    }

    /// The partitions being read now.
    public var assignment: [TopicPartition] { self.assigned }

    /// Reads exactly these partitions (no group balancing); replaces an earlier assignment or subscription.
    public func assign(_ partitions: [TopicPartition]) async {
        await self.leaveGroup()
        self.subscription = []
        self.setAssignment(partitions)
    }

    /// Joins the group (`groupId` is required) to share `topics`' partitions with its other members.
    public func subscribe(_ topics: [String]) throws(KafkaClientError) {
        guard let groupId = self.configuration.groupId else {
            throw KafkaClientError(.invalidArgument, "To use the group management or offset commit APIs, you must provide a valid group.id in the consumer configuration.")
        }
        self.subscription = topics
        if self.group == nil { self.group = GroupMembership(groupId: groupId, cluster: self.cluster, configuration: self.configuration, logger: self.logger) }
        self.group?.needsRejoin = true
    }

    /// Sets where the next fetch of `partition` starts.
    public func seek(_ partition: TopicPartition, offset: Int64) {
        self.positions[partition] = offset
        self.buffered.removeAll { $0.topic == partition.topic && $0.partition == partition.partition }
    }

    /// Moves the given partitions to their first (`earliest`) or next new (`latest`) offset.
    public func seek(_ partitions: [TopicPartition], to reset: OffsetReset) async throws {
        let timestamp = reset == .earliest ? KafkaAdmin.earliest : KafkaAdmin.latest
        for (partition, found) in try await KafkaAdmin(cluster: self.cluster).listOffsets(partitions, timestamp: timestamp) {
            self.seek(partition, offset: found?.offset ?? 0)
        }
    }

    /// The next offset to be read from `partition`, if known.
    public func position(_ partition: TopicPartition) -> Int64? { self.positions[partition] }

    /// Waits up to `timeout` for records, and returns at most `maxPollRecords` of them.
    public func poll(timeout: Duration) async throws -> [ConsumerRecord] {
        let deadline = ContinuousClock.now + timeout
        try await self.ensureGroup()
        try await self.ensurePositions()
        try await self.maybeAutoCommit()
        while self.buffered.isEmpty {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero, !self.assigned.isEmpty else {
                if self.assigned.isEmpty, remaining > .zero { try await Task.sleep(for: min(remaining, .milliseconds(100))) }
                if ContinuousClock.now >= deadline { return [] }
                try await self.ensureGroup()
                try await self.ensurePositions()
                continue
            }
            let waitMs = Int32(min(Int64(self.configuration.fetchMaxWaitMs), max(remaining.milliseconds, 0)))
            try await self.fetchOnce(maxWaitMs: waitMs)
            if self.group?.needsRejoin == true {
                try await self.ensureGroup()
                try await self.ensurePositions()
            }
        }
        let count = min(self.buffered.count, self.configuration.maxPollRecords)
        let records = Array(self.buffered.prefix(count))
        self.buffered.removeFirst(count)
        return records
    }

    /// Commits the current positions (or `offsets`) of the group, synchronously.
    public func commit(_ offsets: [TopicPartition: Int64]? = nil) async throws {
        guard let group = self.offsetsGroup() else {
            throw KafkaClientError(.invalidArgument, "To use the group management or offset commit APIs, you must provide a valid group.id in the consumer configuration.")
        }
        let toCommit = offsets ?? self.consumedPositions()
        guard !toCommit.isEmpty else { return }
        try await group.commit(toCommit)
        for (partition, offset) in toCommit { self.committedPositions[partition] = offset }
    }

    /// The committed offsets of the group for `partitions` (nil: none committed).
    public func committed(_ partitions: [TopicPartition]) async throws -> [TopicPartition: Int64?] {
        guard let group = self.offsetsGroup() else { return Dictionary(uniqueKeysWithValues: partitions.map { ($0, nil) }) }
        return try await group.fetchCommitted(partitions)
    }

    /// Commits (with auto-commit on), leaves the group and closes the connections.
    public func close() async {
        if self.configuration.enableAutoCommit, self.group != nil { try? await self.commit() }
        await self.leaveGroup()
        await self.cluster.close()
    }

    // MARK: Internals

    /// Who commits and fetches the group's offsets: the membership when subscribed, else a standalone handle;
    /// `nil` without a `groupId`.
    private func offsetsGroup() -> GroupMembership? {
        if let group = self.group { return group }
        guard let groupId = self.configuration.groupId else { return nil }
        if let standalone = self.standaloneGroup { return standalone }
        let standalone = GroupMembership(groupId: groupId, cluster: self.cluster, configuration: self.configuration, logger: self.logger)
        self.standaloneGroup = standalone
        return standalone
    }

    private func setAssignment(_ partitions: [TopicPartition]) {
        self.assigned = partitions.sorted()
        let keep = Set(partitions)
        self.positions = self.positions.filter { keep.contains($0.key) }
        self.buffered.removeAll { !keep.contains(TopicPartition($0.topic, $0.partition)) }
    }

    /// Positions of the records handed out so far (the next offset to read of each assigned partition): what a commit
    /// records.
    public func consumedPositions() -> [TopicPartition: Int64] {
        var result = self.positions
        // Records still buffered were not handed out: commit the first of them instead.
        for record in self.buffered.reversed() { result[TopicPartition(record.topic, record.partition)] = record.offset }
        return result.filter { self.assigned.contains($0.key) }
    }

    private func maybeAutoCommit() async throws {
        guard self.configuration.enableAutoCommit, self.group != nil,
              ContinuousClock.now - self.lastAutoCommit >= .milliseconds(self.configuration.autoCommitIntervalMs)
        else { return }
        self.lastAutoCommit = .now
        let positions = self.consumedPositions().filter { self.committedPositions[$0.key] != $0.value }
        if !positions.isEmpty { try? await self.commit(positions) }
    }

    private func leaveGroup() async {
        guard let group = self.group else { return }
        await group.leave()
        self.group = nil
    }

    private func ensureGroup() async throws {
        guard let group = self.group, group.needsRejoin, !self.subscription.isEmpty else { return }
        if self.configuration.enableAutoCommit, group.generation >= 0 { try? await self.commit() }
        let partitions = try await group.join(topics: self.subscription)
        self.setAssignment(partitions)
        self.positions = [:]
    }

    /// Finds where each assigned partition without a position starts: the committed offset, else the reset policy.
    private func ensurePositions() async throws {
        let missing = self.assigned.filter { self.positions[$0] == nil }
        guard !missing.isEmpty else { return }
        var needReset: [TopicPartition] = []
        if let group = self.offsetsGroup() {
            for (partition, offset) in try await group.fetchCommitted(missing) {
                if let offset {
                    self.positions[partition] = offset
                    self.committedPositions[partition] = offset
                } else {
                    needReset.append(partition)
                }
            }
        } else {
            needReset = missing
        }
        guard !needReset.isEmpty else { return }
        guard self.configuration.autoOffsetReset != .none else {
            throw KafkaClientError(.kafka(.offsetOutOfRange), "Undefined offset with no reset policy for partitions: \(needReset.map(\.description))")
        }
        try await self.seek(needReset, to: self.configuration.autoOffsetReset)
    }

    /// One round of fetches: a request per leader, all at once; records go to the buffer in partition order.
    private func fetchOnce(maxWaitMs: Int32) async throws {
        var metadata = await self.cluster.metadata
        if self.assigned.contains(where: { metadata.leader(of: $0) == nil }) {
            metadata = try await self.cluster.refreshMetadata(topics: Array(Set(self.assigned.map(\.topic))))
        }
        var byLeader: [Int32: [TopicPartition]] = [:]
        for partition in self.assigned {
            guard let leader = metadata.leader(of: partition), self.positions[partition] != nil else { continue }
            byLeader[leader, default: []].append(partition)
        }
        guard !byLeader.isEmpty else {
            try await Task.sleep(for: .milliseconds(100))
            return
        }
        let positions = self.positions
        let configuration = self.configuration
        let cluster = self.cluster
        let responses = await withTaskGroup(of: (Int32, Result<FetchResponse, any Error>).self) { group in
            for (leader, partitions) in byLeader {
                group.addTask {
                    var request = FetchRequest(replicaId: -1, maxWaitMs: maxWaitMs, minBytes: configuration.fetchMinBytes, maxBytes: configuration.fetchMaxBytes)
                    for partition in partitions {
                        let entry = FetchRequest.FetchTopic.FetchPartition(
                            partition: partition.partition, fetchOffset: positions[partition]!, partitionMaxBytes: configuration.maxPartitionFetchBytes)
                        if let index = request.topics.firstIndex(where: { $0.topic == partition.topic }) {
                            request.topics[index].partitions.append(entry)
                        } else {
                            request.topics.append(.init(topic: partition.topic, partitions: [entry]))
                        }
                    }
                    do {
                        return (leader, .success(try await cluster.send(request, to: leader, upTo: 11)))
                    } catch {
                        return (leader, .failure(error))
                    }
                }
            }
            return await group.reduce(into: [(Int32, Result<FetchResponse, any Error>)]()) { $0.append($1) }
        }
        var refresh = false
        var reset: [TopicPartition] = []
        for (_, result) in responses {
            guard case .success(let response) = result else {
                refresh = true
                continue
            }
            for topic in response.responses {
                for data in topic.partitions {
                    let partition = TopicPartition(topic.topic, data.partitionIndex)
                    guard let position = self.positions[partition], self.assigned.contains(partition) else { continue }
                    switch ErrorCode(rawValue: data.errorCode) {
                    case .none:
                        let (records, next) = try Self.decode(data.records, partition: partition, from: position)
                        self.buffered += records
                        self.positions[partition] = next
                    case .offsetOutOfRange:
                        reset.append(partition)
                    case let code where code.invalidatesMetadata || code.isRetriable:
                        refresh = true
                    case let code:
                        throw KafkaClientError.kafka(code, message: "Fetching \(partition) failed")
                    }
                }
            }
        }
        if !reset.isEmpty {
            guard self.configuration.autoOffsetReset != .none else {
                throw KafkaClientError(.kafka(.offsetOutOfRange), "Offsets out of range with no configured reset policy for partitions: \(reset.map(\.description))")
            }
            try await self.seek(reset, to: self.configuration.autoOffsetReset)
        }
        if refresh {
            _ = try? await self.cluster.refreshMetadata(topics: Array(Set(self.assigned.map(\.topic))))
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// The records of a fetched set at or after `position`, and the position after them. A batch cut off by the size
    /// limit is left for the next fetch; control batches only move the position.
    static func decode(_ buffer: ByteBuffer?, partition: TopicPartition, from position: Int64) throws -> ([ConsumerRecord], Int64) {
        guard let buffer, buffer.readableBytes > 0 else { return ([], position) }
        var next = position
        var records: [ConsumerRecord] = []
        for entry in try RecordSet(buffer).entries().entries {
            guard case .batch(let batch) = entry, batch.lastOffset >= next else { continue }
            if !batch.attributes.isControl {
                let type = batch.attributes.timestampType
                for record in try batch.records() {
                    let offset = batch.baseOffset + Int64(record.offsetDelta)
                    guard offset >= next else { continue }
                    records.append(ConsumerRecord(
                        topic: partition.topic, partition: partition.partition, offset: offset,
                        timestamp: type == .logAppendTime ? batch.maxTimestamp : batch.baseTimestamp + record.timestampDelta,
                        timestampType: type, key: record.key, value: record.value, headers: record.headers))
                }
            }
            next = batch.lastOffset + 1
        }
        return (records, next)
    }
}

extension Duration {
    /// Whole milliseconds.
    public var milliseconds: Int64 {
        self.components.seconds * 1000 + self.components.attoseconds / 1_000_000_000_000_000
    }
}

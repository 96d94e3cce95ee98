import KafkaModel
import KafkaProtocol
import Logging
import NIOCore
import Synchronization

/// One consumer's membership of a broker-coordinated group: finding the coordinator, JoinGroup/SyncGroup (with the
/// range assignor when this member leads), heartbeats in the background, and offset commits and fetches.
/// Kafka's `ConsumerCoordinator`, reduced to the eager protocol.
final class GroupMembership: Sendable {
    let groupId: String
    let cluster: KafkaCluster
    let configuration: KafkaConsumer.Configuration
    let logger: Logger

    private struct State {
        var memberId = ""
        var generation: Int32 = -1
        var coordinator: Int32?
        var needsRejoin = true
        var heartbeat: Task<Void, Never>?
    }

    private let state = Mutex(State())

    init(groupId: String, cluster: KafkaCluster, configuration: KafkaConsumer.Configuration, logger: Logger) {
        self.groupId = groupId
        self.cluster = cluster
        self.configuration = configuration
        self.logger = logger
    }

    var needsRejoin: Bool {
        get { self.state.withLock { $0.needsRejoin } }
        set { self.state.withLock { $0.needsRejoin = newValue } }
    }

    var generation: Int32 { self.state.withLock { $0.generation } }

    /// The coordinator's broker id, found with FindCoordinator (retried while the coordinator is being set up).
    func coordinator() async throws -> Int32 {
        if let known = self.state.withLock({ $0.coordinator }) { return known }
        var attempt = 0
        while true {
            let response = try await self.cluster.send(FindCoordinatorRequest(key: self.groupId, keyType: 0), to: nil, upTo: 3)
            let code = ErrorCode(rawValue: response.errorCode)
            if code == .none {
                if await self.cluster.metadata.brokers[response.nodeId] == nil { try await self.cluster.refreshMetadata(topics: []) }
                self.state.withLock { $0.coordinator = response.nodeId }
                return response.nodeId
            }
            attempt += 1
            guard code.isRetriable, attempt < 60 else { throw KafkaClientError.kafka(code, message: response.errorMessage) }
            try await Task.sleep(for: .milliseconds(min(100 * attempt, 1_000)))
        }
    }

    private func forgetCoordinator() {
        self.state.withLock { $0.coordinator = nil }
    }

    /// Sends a request to the coordinator; on a connection failure the coordinator is looked up again next time.
    private func toCoordinator<Request: KafkaRequest>(_ request: Request, upTo highest: Int16) async throws -> Request.Response {
        let coordinator = try await self.coordinator()
        do {
            return try await self.cluster.send(request, to: coordinator, upTo: highest)
        } catch {
            self.forgetCoordinator()
            throw error
        }
    }

    /// Joins (or rejoins) the group for `topics` and returns this member's partitions.
    func join(topics: [String]) async throws -> [TopicPartition] {
        self.stopHeartbeat()
        var attempts = 0
        while true {
            attempts += 1
            do {
                let partitions = try await self.joinOnce(topics: topics)
                self.startHeartbeat()
                return partitions
            } catch let error as KafkaClientError where error.isRetriable || error.code == .unknownMemberId || error.code == .illegalGeneration
                || error.code == .memberIdRequired || error.code == .rebalanceInProgress
            {
                guard attempts < 100 else { throw error }
                if error.code?.invalidatesMetadata == true || error.code == .notCoordinator || error.code == .coordinatorNotAvailable {
                    self.forgetCoordinator()
                }
                if error.code == .unknownMemberId { self.state.withLock { $0.memberId = "" } }
                if error.code != .memberIdRequired && error.code != .rebalanceInProgress {
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
        }
    }

    private func joinOnce(topics: [String]) async throws -> [TopicPartition] {
        var subscription = KafkaWriter()
        subscription.writeInt16(0)
        try ConsumerProtocolSubscription(topics: topics.sorted()).encode(to: &subscription, version: 0)
        let memberId = self.state.withLock { $0.memberId }
        let request = JoinGroupRequest(
            groupId: self.groupId, sessionTimeoutMs: self.configuration.sessionTimeoutMs, rebalanceTimeoutMs: self.configuration.rebalanceTimeoutMs,
            memberId: memberId, protocolType: "consumer",
            protocols: [.init(name: "range", metadata: Array(subscription.buffer.readableBytesView))])
        let joined = try await self.toCoordinator(request, upTo: 7)
        let code = ErrorCode(rawValue: joined.errorCode)
        if code == .memberIdRequired {
            self.state.withLock { $0.memberId = joined.memberId }
            throw KafkaClientError.kafka(code)
        }
        guard code == .none else { throw KafkaClientError.kafka(code) }
        self.state.withLock {
            $0.memberId = joined.memberId
            $0.generation = joined.generationId
        }
        var assignments: [SyncGroupRequest.SyncGroupRequestAssignment] = []
        if joined.leader == joined.memberId {
            assignments = try await self.assign(joined.members)
        }
        let sync = SyncGroupRequest(
            groupId: self.groupId, generationId: joined.generationId, memberId: joined.memberId, protocolType: "consumer",
            protocolName: joined.protocolName, assignments: assignments)
        let synced = try await self.toCoordinator(sync, upTo: 4)
        let syncCode = ErrorCode(rawValue: synced.errorCode)
        guard syncCode == .none else { throw KafkaClientError.kafka(syncCode) }
        self.needsRejoin = false
        let partitions = try Self.decodeAssignment(synced.assignment)
        self.logger.info("joined group \(self.groupId) generation \(joined.generationId) as \(joined.memberId): \(partitions.map(\.description).joined(separator: ", "))")
        return partitions
    }

    /// The partitions of a consumer-protocol assignment (empty bytes: none).
    static func decodeAssignment(_ bytes: [UInt8]) throws -> [TopicPartition] {
        guard bytes.count >= 2 else { return [] }
        var reader = KafkaReader(ByteBuffer(bytes: bytes))
        let version = try reader.readInt16("Version")
        let assignment = try ConsumerProtocolAssignment(from: &reader, version: min(max(version, 0), 3))
        return assignment.assignedPartitions.flatMap { entry in entry.partitions.map { TopicPartition(entry.topic, $0) } }.sorted()
    }

    /// The range assignor, as Kafka's `RangeAssignor`: per topic, its subscribers sorted by member id each take a
    /// consecutive run of partitions, the first `partitions % members` one more.
    private func assign(_ members: [JoinGroupResponse.JoinGroupResponseMember]) async throws -> [SyncGroupRequest.SyncGroupRequestAssignment] {
        var subscriptions: [String: [String]] = [:]
        for member in members {
            var reader = KafkaReader(ByteBuffer(bytes: member.metadata))
            let version = try reader.readInt16("Version")
            subscriptions[member.memberId] = try ConsumerProtocolSubscription(from: &reader, version: min(max(version, 0), 3)).topics
        }
        let topics = Array(Set(subscriptions.values.flatMap { $0 })).sorted()
        let metadata = try await self.cluster.refreshMetadata(topics: topics)
        var counts: [String: Int] = [:]
        for topic in topics { counts[topic] = metadata.topics[topic]?.partitions.count ?? 0 }
        let assignment = Self.rangeAssignment(subscriptions: subscriptions, partitionCounts: counts)
        return try subscriptions.keys.sorted().map { member in
            var writer = KafkaWriter()
            writer.writeInt16(0)
            let byTopic = Dictionary(grouping: assignment[member] ?? [], by: \.topic)
            try ConsumerProtocolAssignment(assignedPartitions: byTopic.keys.sorted().map { topic in
                .init(topic: topic, partitions: byTopic[topic]!.map(\.partition).sorted())
            }).encode(to: &writer, version: 0)
            return .init(memberId: member, assignment: Array(writer.buffer.readableBytesView))
        }
    }

    static func rangeAssignment(subscriptions: [String: [String]], partitionCounts: [String: Int]) -> [String: [TopicPartition]] {
        var result: [String: [TopicPartition]] = [:]
        for (topic, count) in partitionCounts.sorted(by: { $0.key < $1.key }) {
            let members = subscriptions.filter { $0.value.contains(topic) }.keys.sorted()
            guard !members.isEmpty else { continue }
            let each = count / members.count
            let extra = count % members.count
            for (index, member) in members.enumerated() {
                let start = index * each + min(index, extra)
                let length = each + (index < extra ? 1 : 0)
                result[member, default: []] += (start..<start + length).map { TopicPartition(topic, Int32($0)) }
            }
        }
        return result
    }

    private func startHeartbeat() {
        let task = Task { [self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(self.configuration.heartbeatIntervalMs))
                if Task.isCancelled { return }
                let (memberId, generation) = self.state.withLock { ($0.memberId, $0.generation) }
                do {
                    let response = try await self.toCoordinator(HeartbeatRequest(groupId: self.groupId, generationId: generation, memberId: memberId), upTo: 3)
                    switch ErrorCode(rawValue: response.errorCode) {
                    case .none: continue
                    case .unknownMemberId:
                        self.state.withLock {
                            $0.memberId = ""
                            $0.needsRejoin = true
                        }
                        return
                    case .rebalanceInProgress, .illegalGeneration, .fencedInstanceId:
                        self.needsRejoin = true
                        return
                    case .notCoordinator, .coordinatorNotAvailable:
                        self.forgetCoordinator()
                    default: continue
                    }
                } catch {
                    self.logger.debug("heartbeat for \(self.groupId) failed: \(error)")
                }
            }
        }
        self.state.withLock {
            $0.heartbeat?.cancel()
            $0.heartbeat = task
        }
    }

    private func stopHeartbeat() {
        self.state.withLock {
            $0.heartbeat?.cancel()
            $0.heartbeat = nil
        }
    }

    /// Commits `offsets` for the group (as its member when in one, else as a standalone consumer).
    func commit(_ offsets: [TopicPartition: Int64]) async throws {
        let (memberId, generation) = self.state.withLock { ($0.memberId, $0.generation) }
        var request = OffsetCommitRequest(groupId: self.groupId, generationIdOrMemberEpoch: generation, memberId: memberId)
        for (topic, entries) in Dictionary(grouping: offsets, by: \.key.topic) {
            request.topics.append(.init(name: topic, partitions: entries.map { .init(partitionIndex: $0.key.partition, committedOffset: $0.value, committedMetadata: "") }))
        }
        var attempt = 0
        while true {
            let response = try await self.toCoordinator(request, upTo: 7)
            let failed = response.topics.flatMap(\.partitions).map { ErrorCode(rawValue: $0.errorCode) }.first { $0 != .none }
            guard let failed else { return }
            if failed == .notCoordinator || failed == .coordinatorNotAvailable { self.forgetCoordinator() }
            if failed == .rebalanceInProgress || failed == .illegalGeneration || failed == .unknownMemberId { self.needsRejoin = true }
            attempt += 1
            guard failed.isRetriable, attempt < 10 else { throw KafkaClientError.kafka(failed, message: "Commit of group \(self.groupId) failed") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// The group's committed offsets for `partitions`; nil where none is committed.
    func fetchCommitted(_ partitions: [TopicPartition]) async throws -> [TopicPartition: Int64?] {
        var request = OffsetFetchRequest(groupId: self.groupId)
        request.topics = Dictionary(grouping: partitions, by: \.topic).map { .init(name: $0.key, partitionIndexes: $0.value.map(\.partition)) }
        let found = try await self.fetchOffsets(request)
        var result: [TopicPartition: Int64?] = Dictionary(uniqueKeysWithValues: partitions.map { ($0, nil) })
        for (partition, offset) in found { result[partition] = offset }
        return result
    }

    /// Every offset the group committed (OffsetFetch with no topics, v2+).
    func fetchAllCommitted() async throws -> [TopicPartition: Int64] {
        var request = OffsetFetchRequest(groupId: self.groupId)
        request.topics = nil
        return try await self.fetchOffsets(request)
    }

    /// Sends an OffsetFetch to the coordinator, retrying retriable errors; partitions without a commit are absent.
    private func fetchOffsets(_ request: OffsetFetchRequest) async throws -> [TopicPartition: Int64] {
        var attempt = 0
        while true {
            let response = try await self.toCoordinator(request, upTo: 7)
            var code = ErrorCode(rawValue: response.errorCode)
            if code == .none { code = response.topics.flatMap(\.partitions).map { ErrorCode(rawValue: $0.errorCode) }.first { $0 != .none } ?? .none }
            if code == .none {
                var result: [TopicPartition: Int64] = [:]
                for topic in response.topics {
                    for entry in topic.partitions where entry.committedOffset >= 0 {
                        result[TopicPartition(topic.name, entry.partitionIndex)] = entry.committedOffset
                    }
                }
                return result
            }
            if code == .notCoordinator || code == .coordinatorNotAvailable { self.forgetCoordinator() }
            attempt += 1
            guard code.isRetriable, attempt < 30 else { throw KafkaClientError.kafka(code, message: "Fetching the offsets of group \(self.groupId) failed") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Leaves the group at once, so the others need not wait out this member's session.
    func leave() async {
        self.stopHeartbeat()
        let memberId = self.state.withLock { $0.memberId }
        guard !memberId.isEmpty, let coordinator = try? await self.coordinator(),
              let connection = try? await self.cluster.connection(to: coordinator),
              let version = try? connection.version(of: LeaveGroupRequest.self, upTo: 4)
        else { return }
        let request = version >= 3
            ? LeaveGroupRequest(groupId: self.groupId, members: [.init(memberId: memberId)])
            : LeaveGroupRequest(groupId: self.groupId, memberId: memberId)
        _ = try? await connection.connection.send(request, version: version)
        self.state.withLock {
            $0.memberId = ""
            $0.generation = -1
            $0.needsRejoin = true
        }
    }
}

import Coordination
import GroupCoordinator
import KafkaModel
import KafkaProtocol
import Logging
import NIOCore
import ZooKeeper

// The classic consumer-group APIs (Kafka's ZooKeeper mode; see GroupCoordination for who coordinates a group and
// GroupCoordinator for the state machine):
// FindCoordinator (10, v0...v4): the leader of the group's `__consumer_offsets` partition; the topic is created on
//   first use (offsets.topic.num.partitions, offsets.topic.replication.factor capped at the live brokers) and
//   COORDINATOR_NOT_AVAILABLE is answered until it has a leader. Transaction coordinators (key type 1) are refused
//   with INVALID_REQUEST: Ferry has no transactions.
// JoinGroup (11, v0...v9), SyncGroup (14, v0...v5), Heartbeat (12, v0...v4), LeaveGroup (13, v0...v5): as Kafka's
//   GroupCoordinator, NOT_COORDINATOR when this broker does not lead the group's partition.
// OffsetCommit (8, v0...v8): checked against the generation, then written to ZooKeeper under
//   /consumers/<group>/offsets (every version, not only v0), fenced by the coordinator partition's state version.
//   Per partition: UNKNOWN_TOPIC_OR_PARTITION for partitions the metadata does not know, OFFSET_METADATA_TOO_LARGE
//   past offset.metadata.max.bytes. The per-commit retention time (v2-v4) is not kept: offsets.retention.minutes applies.
// OffsetFetch (9, v0...v8): read from ZooKeeper; -1 for partitions without a commit; null topics (v2+) is every
//   committed partition. DescribeGroups (15, v0...v5), ListGroups (16, v0...v4, with the v4 state filter),
//   DeleteGroups (42, v0...v2: NON_EMPTY_GROUP while members remain, GROUP_ID_NOT_FOUND for unknown groups).
// Groups known only by their offsets in ZooKeeper are listed and described as Empty.

struct FindCoordinatorHandler: KafkaRequestHandler {
    typealias Request = FindCoordinatorRequest
    static let versions: ClosedRange<Int16> = 0...4

    let groups: GroupCoordination

    func handle(_ request: FindCoordinatorRequest, context: RequestContext) async throws -> FindCoordinatorResponse? {
        var response = FindCoordinatorResponse()
        let keys = context.version >= 4 ? request.coordinatorKeys : [request.key]
        for key in keys {
            var entry = FindCoordinatorResponse.Coordinator(key: key, nodeId: -1, host: "", port: -1)
            if request.keyType != 0 {
                entry.errorCode = ErrorCode.invalidRequest.rawValue
                entry.errorMessage = "Ferry has no transaction coordinator"
            } else {
                switch await self.groups.locate(key) {
                case .success(let node):
                    (entry.nodeId, entry.host, entry.port) = (node.id, node.host, node.port)
                    entry.errorMessage = nil
                case .failure:
                    entry.errorCode = ErrorCode.coordinatorNotAvailable.rawValue
                    entry.errorMessage = "The coordinator is not available."
                }
            }
            if context.version >= 4 {
                response.coordinators.append(entry)
            } else {
                response.errorCode = entry.errorCode
                response.errorMessage = entry.errorMessage
                (response.nodeId, response.host, response.port) = (entry.nodeId, entry.host, entry.port)
            }
        }
        return response
    }
}

/// The client's address as Kafka shows it in DescribeGroups: `/host`.
/// The member's address as Kafka prints it (`/127.0.0.1`), from NIO's `[IPv4]host/127.0.0.1:port`.
private func clientHost(_ context: RequestContext) -> String {
    var host = context.peer
    if let slash = host.lastIndex(of: "/") { host = String(host[host.index(after: slash)...]) }
    if let colon = host.lastIndex(of: ":") { host = String(host[..<colon]) }
    if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    return "/" + host
}

struct JoinGroupHandler: KafkaRequestHandler {
    typealias Request = JoinGroupRequest
    static let versions: ClosedRange<Int16> = 0...9

    let groups: GroupCoordination

    func handle(_ request: JoinGroupRequest, context: RequestContext) async throws -> JoinGroupResponse? {
        var response = JoinGroupResponse(memberId: request.memberId)
        response.protocolName = context.version >= 7 ? nil : ""
        guard await self.groups.fence(for: request.groupId) != nil else {
            response.errorCode = ErrorCode.notCoordinator.rawValue
            return response
        }
        let result = await self.groups.coordinator.join(JoinGroupCall(
            groupId: request.groupId, memberId: request.memberId, groupInstanceId: request.groupInstanceId,
            clientId: context.clientId ?? "", clientHost: clientHost(context), sessionTimeoutMs: request.sessionTimeoutMs,
            rebalanceTimeoutMs: context.version >= 1 ? request.rebalanceTimeoutMs : request.sessionTimeoutMs,
            protocolType: request.protocolType, protocols: request.protocols.map { GroupProtocol(name: $0.name, metadata: $0.metadata) },
            requireKnownMemberId: context.version >= 4))
        response.errorCode = result.error.rawValue
        response.generationId = result.generationId
        response.protocolType = result.protocolType
        response.protocolName = result.protocolName ?? (context.version >= 7 ? nil : "")
        response.leader = result.leaderId
        response.memberId = result.memberId
        response.members = result.members.map { .init(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, metadata: $0.metadata) }
        return response
    }
}

struct SyncGroupHandler: KafkaRequestHandler {
    typealias Request = SyncGroupRequest
    static let versions: ClosedRange<Int16> = 0...5

    let groups: GroupCoordination

    func handle(_ request: SyncGroupRequest, context: RequestContext) async throws -> SyncGroupResponse? {
        guard await self.groups.fence(for: request.groupId) != nil else {
            return SyncGroupResponse(errorCode: ErrorCode.notCoordinator.rawValue)
        }
        let result = await self.groups.coordinator.sync(
            groupId: request.groupId, generationId: request.generationId, memberId: request.memberId,
            groupInstanceId: request.groupInstanceId, protocolType: request.protocolType, protocolName: request.protocolName,
            assignments: Dictionary(request.assignments.map { ($0.memberId, $0.assignment) }, uniquingKeysWith: { _, last in last }))
        return SyncGroupResponse(
            errorCode: result.error.rawValue, protocolType: result.protocolType, protocolName: result.protocolName,
            assignment: result.assignment)
    }
}

struct HeartbeatHandler: KafkaRequestHandler {
    typealias Request = HeartbeatRequest
    static let versions: ClosedRange<Int16> = 0...4

    let groups: GroupCoordination

    func handle(_ request: HeartbeatRequest, context: RequestContext) async throws -> HeartbeatResponse? {
        guard await self.groups.fence(for: request.groupId) != nil else {
            return HeartbeatResponse(errorCode: ErrorCode.notCoordinator.rawValue)
        }
        let code = await self.groups.coordinator.heartbeat(
            groupId: request.groupId, generationId: request.generationId, memberId: request.memberId,
            groupInstanceId: request.groupInstanceId)
        return HeartbeatResponse(errorCode: code.rawValue)
    }
}

struct LeaveGroupHandler: KafkaRequestHandler {
    typealias Request = LeaveGroupRequest
    static let versions: ClosedRange<Int16> = 0...5

    let groups: GroupCoordination

    func handle(_ request: LeaveGroupRequest, context: RequestContext) async throws -> LeaveGroupResponse? {
        let leaving: [(memberId: String, groupInstanceId: String?)] =
            context.version >= 3 ? request.members.map { ($0.memberId, $0.groupInstanceId) } : [(request.memberId, nil)]
        guard await self.groups.fence(for: request.groupId) != nil else {
            return LeaveGroupResponse(errorCode: ErrorCode.notCoordinator.rawValue)
        }
        let codes = await self.groups.coordinator.leave(groupId: request.groupId, members: leaving)
        var response = LeaveGroupResponse()
        if context.version >= 3 {
            response.members = zip(leaving, codes).map { .init(memberId: $0.0.memberId, groupInstanceId: $0.0.groupInstanceId, errorCode: $0.1.rawValue) }
        } else {
            response.errorCode = codes.first?.rawValue ?? 0
        }
        return response
    }
}

struct OffsetCommitHandler: KafkaRequestHandler {
    typealias Request = OffsetCommitRequest
    static let versions: ClosedRange<Int16> = 0...8

    let groups: GroupCoordination

    func handle(_ request: OffsetCommitRequest, context: RequestContext) async throws -> OffsetCommitResponse? {
        var codes: [TopicPartition: ErrorCode] = [:]
        let requested = request.topics.flatMap { topic in topic.partitions.map { (TopicPartition(topic.name, $0.partitionIndex), $0) } }
        func answer() -> OffsetCommitResponse {
            OffsetCommitResponse(topics: request.topics.map { topic in
                .init(name: topic.name, partitions: topic.partitions.map {
                    .init(partitionIndex: $0.partitionIndex, errorCode: (codes[TopicPartition(topic.name, $0.partitionIndex)] ?? .none).rawValue)
                })
            })
        }
        func failAll(_ code: ErrorCode) -> OffsetCommitResponse {
            for (partition, _) in requested { codes[partition] = code }
            return answer()
        }
        guard var fence = await self.groups.fence(for: request.groupId) else { return failAll(.notCoordinator) }
        let committer = OffsetCommitter(
            memberId: context.version >= 1 ? request.memberId : "", generationId: context.version >= 1 ? request.generationIdOrMemberEpoch : -1,
            groupInstanceId: request.groupInstanceId)
        let verdict = await self.groups.coordinator.validateCommit(groupId: request.groupId, committer: committer)
        guard verdict == .none else { return failAll(verdict) }
        let topics = await self.groups.cache.topics
        var offsets: [TopicPartition: (offset: Int64, metadata: String)] = [:]
        for (partition, data) in requested {
            let metadata = data.committedMetadata ?? ""
            if topics[partition.topic]?.assignment.partitions[partition.partition] == nil {
                codes[partition] = .unknownTopicOrPartition
            } else if metadata.utf8.count > Int(self.groups.config.offsetMetadataMaxBytes) {
                codes[partition] = .offsetMetadataTooLarge
            } else {
                offsets[partition] = (data.committedOffset, metadata)
            }
        }
        for attempt in 1...5 {
            do {
                try await self.groups.offsets.commit(group: request.groupId, offsets: offsets, fence: fence)
                return answer()
            } catch let error as ZooKeeperError where attempt < 5 && (error.code == .badVersion || error.code == .noNode) {
                // The partition state changed since the cache read it. An ISR change keeps this broker the
                // coordinator, and a new `__consumer_offsets` partition's ISR can change several times in a row.
                guard let refreshed = await self.groups.refreshedFence(fence) else { break }
                fence = refreshed
            } catch {
                self.groups.logger.warning("offset commit for group \(request.groupId) failed: \(error)")
                for partition in offsets.keys { codes[partition] = .coordinatorNotAvailable }
                return answer()
            }
        }
        for partition in offsets.keys { codes[partition] = .notCoordinator }
        return answer()
    }
}

struct OffsetFetchHandler: KafkaRequestHandler {
    typealias Request = OffsetFetchRequest
    static let versions: ClosedRange<Int16> = 0...8

    let groups: GroupCoordination

    private struct Answer {
        var error: ErrorCode = .none
        var topics: [(name: String, partitions: [(index: Int32, offset: Int64, metadata: String?, error: ErrorCode)])] = []
    }

    func handle(_ request: OffsetFetchRequest, context: RequestContext) async throws -> OffsetFetchResponse? {
        if context.version >= 8 {
            var response = OffsetFetchResponse()
            for group in request.groups {
                let answer = await self.fetch(group.groupId, topics: group.topics.map { $0.map { ($0.name, $0.partitionIndexes) } })
                response.groups.append(.init(
                    groupId: group.groupId,
                    topics: answer.topics.map { topic in
                        .init(name: topic.name, partitions: topic.partitions.map {
                            .init(partitionIndex: $0.index, committedOffset: $0.offset, metadata: $0.metadata, errorCode: $0.error.rawValue)
                        })
                    },
                    errorCode: answer.error.rawValue))
            }
            return response
        }
        let answer = await self.fetch(request.groupId, topics: request.topics.map { $0.map { ($0.name, $0.partitionIndexes) } })
        var response = OffsetFetchResponse()
        response.topics = answer.topics.map { topic in
            .init(name: topic.name, partitions: topic.partitions.map {
                // v0-1 carry errors per partition only.
                .init(partitionIndex: $0.index, committedOffset: $0.offset, metadata: $0.metadata,
                      errorCode: (context.version >= 2 || answer.error == .none ? $0.error : answer.error).rawValue)
            })
        }
        response.errorCode = context.version >= 2 ? answer.error.rawValue : 0
        return response
    }

    private func fetch(_ group: String, topics: [(String, [Int32])]?) async -> Answer {
        var answer = Answer()
        let wanted = topics.map { $0.flatMap { topic in topic.1.map { TopicPartition(topic.0, $0) } } }
        func failed(_ code: ErrorCode) -> Answer {
            answer.error = code
            answer.topics = (topics ?? []).map { ($0.0, $0.1.map { ($0, -1, "", code) }) }
            return answer
        }
        guard await self.groups.fence(for: group) != nil else { return failed(.notCoordinator) }
        let committed: [TopicPartition: CommittedOffset]
        do {
            committed = try await self.groups.offsets.fetch(group: group, partitions: wanted)
        } catch {
            self.groups.logger.warning("offset fetch for group \(group) failed: \(error)")
            return failed(.coordinatorNotAvailable)
        }
        let partitions = wanted ?? committed.keys.sorted()
        var byTopic: [String: [(index: Int32, offset: Int64, metadata: String?, error: ErrorCode)]] = [:]
        var order: [String] = []
        for partition in partitions {
            if byTopic[partition.topic] == nil { order.append(partition.topic) }
            let entry = committed[partition]
            byTopic[partition.topic, default: []].append((partition.partition, entry?.offset ?? -1, entry?.metadata ?? "", .none))
        }
        answer.topics = order.map { ($0, byTopic[$0]!) }
        return answer
    }
}

struct DescribeGroupsHandler: KafkaRequestHandler {
    typealias Request = DescribeGroupsRequest
    static let versions: ClosedRange<Int16> = 0...5

    let groups: GroupCoordination

    func handle(_ request: DescribeGroupsRequest, context: RequestContext) async throws -> DescribeGroupsResponse? {
        var response = DescribeGroupsResponse()
        for groupId in request.groups {
            var described = DescribeGroupsResponse.DescribedGroup(groupId: groupId, groupState: GroupState.dead.rawValue)
            if groupId.isEmpty {
                described.errorCode = ErrorCode.invalidGroupId.rawValue
            } else if await self.groups.fence(for: groupId) == nil {
                described.errorCode = ErrorCode.notCoordinator.rawValue
            } else if let group = await self.groups.coordinator.describe(groupId) {
                described.groupState = group.state.rawValue
                described.protocolType = group.protocolType
                described.protocolData = group.protocolName
                described.members = group.members.map {
                    .init(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, clientId: $0.clientId, clientHost: $0.clientHost,
                          memberMetadata: $0.metadata, memberAssignment: $0.assignment)
                }
            } else if let members = try? await BalancedGroupReader(client: self.groups.client).members(group: groupId), !members.isEmpty {
                Self.describe(balanced: members, into: &described)
            } else if let committed = try? await self.groups.offsets.fetch(group: groupId, partitions: nil), !committed.isEmpty {
                described.groupState = GroupState.empty.rawValue
                described.protocolType = "consumer"
            }
            response.groups.append(described)
        }
        return response
    }
}

extension DescribeGroupsHandler {
    /// A ZooKeeper-balanced group as a Stable consumer group with the range protocol, each registered member with its
    /// subscription and owned partitions in the consumer protocol's encoding, so admin tools describe it as any other.
    static func describe(balanced members: [BalancedGroupReader.Member], into described: inout DescribeGroupsResponse.DescribedGroup) {
        described.groupState = GroupState.stable.rawValue
        described.protocolType = "consumer"
        described.protocolData = "range"
        described.members = members.map { member in
            var subscription = KafkaWriter()
            subscription.writeInt16(0)
            try? ConsumerProtocolSubscription(topics: member.topics).encode(to: &subscription, version: 0)
            var assignment = KafkaWriter()
            assignment.writeInt16(0)
            let byTopic = Dictionary(grouping: member.partitions, by: \.topic)
            try? ConsumerProtocolAssignment(assignedPartitions: byTopic.keys.sorted().map { topic in
                .init(topic: topic, partitions: byTopic[topic]!.map(\.partition))
            }).encode(to: &assignment, version: 0)
            return .init(memberId: member.consumerId, groupInstanceId: nil, clientId: member.consumerId,
                         clientHost: "/" + member.host(group: described.groupId),
                         memberMetadata: Array(subscription.buffer.readableBytesView), memberAssignment: Array(assignment.buffer.readableBytesView))
        }
    }
}

struct ListGroupsHandler: KafkaRequestHandler {
    typealias Request = ListGroupsRequest
    static let versions: ClosedRange<Int16> = 0...4

    let groups: GroupCoordination

    func handle(_ request: ListGroupsRequest, context: RequestContext) async throws -> ListGroupsResponse? {
        var listed: [String: (protocolType: String, state: GroupState)] = [:]
        let topics = await self.groups.cache.topics
        for group in (try? await self.groups.offsets.groups()) ?? [] where self.groups.coordinates(group, topics: topics) {
            // A ZooKeeper-balanced group with registered members is Stable, as DescribeGroups reports it.
            let active = (try? await self.groups.offsets.hasZooKeeperMembers(group: group)) ?? false
            listed[group] = ("consumer", active ? .stable : .empty)
        }
        for group in await self.groups.coordinator.listGroups() where self.groups.coordinates(group.groupId, topics: topics) {
            listed[group.groupId] = (group.protocolType.isEmpty ? listed[group.groupId]?.protocolType ?? "" : group.protocolType, group.state)
        }
        let filter = Set(request.statesFilter.map { $0.lowercased() })
        return ListGroupsResponse(groups: listed.keys.sorted().compactMap { groupId in
            let entry = listed[groupId]!
            guard filter.isEmpty || filter.contains(entry.state.rawValue.lowercased()) else { return nil }
            return .init(groupId: groupId, protocolType: entry.protocolType, groupState: entry.state.rawValue)
        })
    }
}

struct DeleteGroupsHandler: KafkaRequestHandler {
    typealias Request = DeleteGroupsRequest
    static let versions: ClosedRange<Int16> = 0...2

    let groups: GroupCoordination

    func handle(_ request: DeleteGroupsRequest, context: RequestContext) async throws -> DeleteGroupsResponse? {
        var response = DeleteGroupsResponse()
        for groupId in request.groupsNames {
            response.results.append(.init(groupId: groupId, errorCode: await self.delete(groupId).rawValue))
        }
        return response
    }

    private func delete(_ groupId: String) async -> ErrorCode {
        guard !groupId.isEmpty else { return .invalidGroupId }
        guard await self.groups.fence(for: groupId) != nil else { return .notCoordinator }
        let loaded = await self.groups.coordinator.delete(groupId)
        if case .notEmpty = loaded { return .nonEmptyGroup }
        do {
            if try await self.groups.offsets.hasZooKeeperMembers(group: groupId) { return .nonEmptyGroup }
            let existed = try await self.groups.offsets.deleteGroup(groupId)
            if case .deleted = loaded { return .none }
            return existed ? .none : .groupIdNotFound
        } catch {
            return .coordinatorNotAvailable
        }
    }
}

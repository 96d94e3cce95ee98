import KafkaModel
import KafkaProtocol
import Logging

/// Consumer-group administration: what Kafka's `Admin` offers `kafka-consumer-groups.sh` (list, describe, offsets,
/// reset, delete). Group requests go to the group's coordinator.
extension KafkaAdmin {
    public struct GroupListing: Hashable, Sendable {
        public var groupId: String
        public var protocolType: String
        public var state: String
    }

    public struct GroupMember: Hashable, Sendable {
        public var memberId: String
        public var groupInstanceId: String?
        public var clientId: String
        public var host: String
        /// The member's partitions, decoded from its consumer-protocol assignment (empty for other protocols).
        public var assignment: [TopicPartition]
    }

    public struct GroupDescription: Sendable {
        public var groupId: String
        /// Kafka's state name (Stable, Empty, PreparingRebalance, CompletingRebalance, Dead).
        public var state: String
        public var protocolType: String
        public var assignmentStrategy: String
        public var coordinator: ClusterMetadata.Broker?
        public var members: [GroupMember]
    }

    /// Every group of every broker (ListGroups to each), sorted by id.
    public func listGroups() async throws -> [GroupListing] {
        let metadata = try await self.cluster.refreshMetadata(topics: [])
        var groups: [String: GroupListing] = [:]
        for id in metadata.brokers.keys.sorted() {
            let response = try await self.cluster.send(ListGroupsRequest(), to: id, upTo: 4)
            guard response.errorCode == 0 else { throw KafkaClientError.kafka(ErrorCode(rawValue: response.errorCode)) }
            for group in response.groups {
                groups[group.groupId] = GroupListing(groupId: group.groupId, protocolType: group.protocolType, state: group.groupState)
            }
        }
        return groups.keys.sorted().map { groups[$0]! }
    }

    /// The group as its coordinator sees it (a group nobody knows is `Dead` with no members).
    public func describeGroup(_ groupId: String) async throws -> GroupDescription {
        let handle = self.groupHandle(groupId)
        let coordinator = try await handle.coordinator()
        let response = try await self.cluster.send(DescribeGroupsRequest(groups: [groupId]), to: coordinator, upTo: 5)
        guard let group = response.groups.first else { throw KafkaClientError(.invalidArgument, "No description of group \(groupId)") }
        guard group.errorCode == 0 else { throw KafkaClientError.kafka(ErrorCode(rawValue: group.errorCode)) }
        let members = group.members.map { member in
            GroupMember(memberId: member.memberId, groupInstanceId: member.groupInstanceId, clientId: member.clientId, host: member.clientHost,
                        assignment: group.protocolType == "consumer" ? (try? GroupMembership.decodeAssignment(member.memberAssignment)) ?? [] : [])
        }
        return GroupDescription(
            groupId: groupId, state: group.groupState, protocolType: group.protocolType, assignmentStrategy: group.protocolData,
            coordinator: await self.cluster.metadata.brokers[coordinator], members: members)
    }

    /// Every offset the group committed.
    public func groupOffsets(_ groupId: String) async throws -> [TopicPartition: Int64] {
        try await self.groupHandle(groupId).fetchAllCommitted()
    }

    /// Commits `offsets` for the group from outside it (generation -1), as Kafka's `alterConsumerGroupOffsets`.
    public func alterGroupOffsets(_ groupId: String, _ offsets: [TopicPartition: Int64]) async throws {
        try await self.groupHandle(groupId).commit(offsets)
    }

    /// Deletes groups (each at its coordinator); the result maps each group to its error code.
    public func deleteGroups(_ groupIds: [String]) async throws -> [String: ErrorCode] {
        var result: [String: ErrorCode] = [:]
        for groupId in groupIds {
            let coordinator = try await self.groupHandle(groupId).coordinator()
            let response = try await self.cluster.send(DeleteGroupsRequest(groupsNames: [groupId]), to: coordinator, upTo: 2)
            for entry in response.results { result[entry.groupId] = ErrorCode(rawValue: entry.errorCode) }
        }
        return result
    }

    private func groupHandle(_ groupId: String) -> GroupMembership {
        GroupMembership(groupId: groupId, cluster: self.cluster, configuration: KafkaConsumer.Configuration(groupId: groupId),
                        logger: Logger(label: "ferry.admin"))
    }
}

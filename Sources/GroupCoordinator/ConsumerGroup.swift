import KafkaModel

/// A member of a group, owned by the coordinator actor.
final class GroupMember {
    var memberId: String
    let groupInstanceId: String?
    var clientId: String
    var clientHost: String
    var sessionTimeoutMs: Int32
    var rebalanceTimeoutMs: Int32
    var protocolType: String
    var protocols: [GroupProtocol]
    var assignment: [UInt8] = []
    /// A JoinGroup waiting for the generation to form.
    var awaitingJoin: CheckedContinuation<JoinGroupResult, Never>?
    /// A SyncGroup waiting for the leader's assignment.
    var awaitingSync: CheckedContinuation<SyncGroupResult, Never>?
    /// When the member is gone unless it heartbeats (or joins) first.
    var sessionDeadline: ContinuousClock.Instant

    init(memberId: String, call: JoinGroupCall, now: ContinuousClock.Instant) {
        self.memberId = memberId
        self.groupInstanceId = call.groupInstanceId
        self.clientId = call.clientId
        self.clientHost = call.clientHost
        self.sessionTimeoutMs = call.sessionTimeoutMs
        self.rebalanceTimeoutMs = call.rebalanceTimeoutMs
        self.protocolType = call.protocolType
        self.protocols = call.protocols
        self.sessionDeadline = now + .milliseconds(Int64(call.sessionTimeoutMs))
    }

    func update(from call: JoinGroupCall) {
        self.clientId = call.clientId
        self.clientHost = call.clientHost
        self.sessionTimeoutMs = call.sessionTimeoutMs
        self.rebalanceTimeoutMs = call.rebalanceTimeoutMs
        self.protocols = call.protocols
    }

    func metadata(for protocolName: String?) -> [UInt8] {
        self.protocols.first { $0.name == protocolName }?.metadata ?? []
    }

    func heartbeat(now: ContinuousClock.Instant) {
        self.sessionDeadline = now + .milliseconds(Int64(self.sessionTimeoutMs))
    }
}

/// A group's membership and generation: Kafka's GroupMetadata, without persistence (the generation starts again
/// when the coordinator moves; committed offsets live in the offset store).
final class ConsumerGroup {
    let groupId: String
    var state: GroupState = .empty
    var generationId: Int32 = 0
    var protocolType: String?
    var protocolName: String?
    var leaderId: String?
    /// Members in join order: the first is the leader when a generation needs a new one.
    private(set) var members: [GroupMember] = []
    /// Ids handed out with MEMBER_ID_REQUIRED, each with the time by which the member must join with it.
    var pendingMembers: [String: ContinuousClock.Instant] = [:]
    /// Static members: `group.instance.id` to the member id currently holding it.
    var staticMembers: [String: String] = [:]
    /// When the current rebalance began.
    var joinStart: ContinuousClock.Instant?
    /// Whether the current rebalance is an empty group's first, held back by group.initial.rebalance.delay.ms.
    var inInitialDelay = false
    /// The rebalance may not complete before this (group.initial.rebalance.delay.ms for an empty group).
    var joinNotBefore: ContinuousClock.Instant?
    /// The rebalance completes at this time even if some members have not rejoined (they are removed).
    var joinDeadline: ContinuousClock.Instant?

    init(groupId: String) {
        self.groupId = groupId
    }

    func member(_ memberId: String) -> GroupMember? {
        self.members.first { $0.memberId == memberId }
    }

    func add(_ member: GroupMember) {
        if self.members.isEmpty { self.protocolType = member.protocolType }
        self.members.append(member)
        if let instance = member.groupInstanceId { self.staticMembers[instance] = member.memberId }
        if self.leaderId == nil { self.leaderId = member.memberId }
    }

    func remove(_ memberId: String) {
        guard let index = self.members.firstIndex(where: { $0.memberId == memberId }) else { return }
        let member = self.members.remove(at: index)
        if let instance = member.groupInstanceId, self.staticMembers[instance] == memberId {
            self.staticMembers[instance] = nil
        }
        if self.leaderId == memberId { self.leaderId = self.members.first?.memberId }
        if self.members.isEmpty { self.protocolType = nil }
    }

    /// A static member rejoining under a new member id: the old id is fenced from then on.
    func replaceStaticMember(_ old: GroupMember, with newId: String) {
        if self.leaderId == old.memberId { self.leaderId = newId }
        old.memberId = newId
        if let instance = old.groupInstanceId { self.staticMembers[instance] = newId }
    }

    /// The protocols every member supports, which a new member must share at least one of.
    var candidateProtocols: Set<String> {
        guard let first = self.members.first else { return [] }
        return self.members.dropFirst().reduce(into: Set(first.protocols.map(\.name))) { common, member in
            common.formIntersection(member.protocols.map(\.name))
        }
    }

    /// Whether `call` may join: the same protocol type, and a protocol in common with every member.
    func supports(_ call: JoinGroupCall) -> Bool {
        guard !call.protocolType.isEmpty, !call.protocols.isEmpty else { return false }
        guard let protocolType = self.protocolType, !self.members.isEmpty else { return true }
        return protocolType == call.protocolType && !self.candidateProtocols.isDisjoint(with: call.protocols.map(\.name))
    }

    /// Kafka's selection: each member votes for the first of its protocols that all members support; most votes wins.
    func selectProtocol() -> String? {
        let candidates = self.candidateProtocols
        var votes: [String: Int] = [:]
        for member in self.members {
            if let choice = member.protocols.first(where: { candidates.contains($0.name) }) { votes[choice.name, default: 0] += 1 }
        }
        // Ties go to the protocol the most senior member prefers, so the choice is stable.
        let preference = self.members.first?.protocols.map(\.name) ?? []
        return votes.max { lhs, rhs in
            lhs.value != rhs.value ? lhs.value < rhs.value
                : (preference.firstIndex(of: lhs.key) ?? .max) > (preference.firstIndex(of: rhs.key) ?? .max)
        }?.key
    }

    var allMembersJoined: Bool {
        self.pendingMembers.isEmpty && self.members.allSatisfy { $0.awaitingJoin != nil }
    }

    /// The longest rebalance timeout of the members: how long a rebalance waits for them to rejoin.
    var rebalanceTimeout: Duration {
        .milliseconds(Int64(self.members.map(\.rebalanceTimeoutMs).max() ?? 0))
    }

    func describe() -> GroupDescription {
        let listMembers = self.state == .stable || self.state == .completingRebalance || self.state == .preparingRebalance
        return GroupDescription(
            groupId: self.groupId, state: self.state, protocolType: self.protocolType ?? "",
            protocolName: self.state == .stable || self.state == .completingRebalance ? self.protocolName ?? "" : "",
            generationId: self.generationId,
            members: listMembers ? self.members.map { member in
                GroupMemberDescription(
                    memberId: member.memberId, groupInstanceId: member.groupInstanceId, clientId: member.clientId,
                    clientHost: member.clientHost, metadata: self.state == .stable ? member.metadata(for: self.protocolName) : [],
                    assignment: self.state == .stable ? member.assignment : [])
            } : [])
    }
}

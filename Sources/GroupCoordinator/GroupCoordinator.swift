import KafkaModel
import Logging

/// The classic group coordinator for the groups whose coordinator partition this broker leads: Kafka's
/// GroupCoordinator state machine (Empty → PreparingRebalance → CompletingRebalance → Stable), generations,
/// member ids with the MEMBER_ID_REQUIRED round trip, static membership, session and rebalance timeouts and the
/// initial rebalance delay. Assignment is the clients' business: the leader's SyncGroup carries it and the
/// coordinator relays it.
///
/// The caller checks that this broker coordinates a group before calling (NOT_COORDINATOR otherwise) and stores
/// committed offsets itself after `validateCommit`. Membership lives in memory, as Kafka's does between writes to
/// its log: when the coordinator moves, members learn it from NOT_COORDINATOR or UNKNOWN_MEMBER_ID and join the new
/// one, which starts a fresh generation.
public actor GroupCoordinator {
    private let settings: GroupCoordinatorSettings
    private let logger: Logger
    private var groups: [String: ConsumerGroup] = [:]
    /// Set when the broker stops: every group is released and joins are refused, so no request waits on a
    /// generation that will never form (a waiting JoinGroup would keep its connection, and the broker, from closing).
    private var isShutDown = false

    public init(settings: GroupCoordinatorSettings = .init(), logger: Logger = Logger(label: "ferry.group-coordinator")) {
        self.settings = settings
        self.logger = logger
    }

    /// Checks timers until cancelled: expired sessions leave their groups, rebalances past their deadline or their
    /// initial delay complete.
    public func run() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: self.settings.tickInterval)
            self.tick()
        }
    }

    // MARK: JoinGroup

    public func join(_ call: JoinGroupCall) async -> JoinGroupResult {
        guard !self.isShutDown else { return .failed(.notCoordinator, memberId: call.memberId) }
        guard !call.groupId.isEmpty else { return .failed(.invalidGroupId) }
        guard call.sessionTimeoutMs >= self.settings.minSessionTimeoutMs, call.sessionTimeoutMs <= self.settings.maxSessionTimeoutMs else {
            return .failed(.invalidSessionTimeout)
        }
        let now = ContinuousClock.now
        let group: ConsumerGroup
        if let existing = self.groups[call.groupId] {
            group = existing
        } else if call.memberId.isEmpty {
            group = ConsumerGroup(groupId: call.groupId)
            self.groups[call.groupId] = group
        } else {
            return .failed(.unknownMemberId)
        }
        guard group.state != .dead else { return .failed(.coordinatorNotAvailable) }
        guard group.supports(call) else { return .failed(.inconsistentGroupProtocol) }

        if call.memberId.isEmpty {
            let newId = "\(call.clientId)-\(Self.randomUUIDString())"
            if let instance = call.groupInstanceId, let oldId = group.staticMembers[instance], let member = group.member(oldId) {
                return await self.rejoinStaticMember(member, group: group, newId: newId, call: call, now: now)
            }
            if call.groupInstanceId == nil && call.requireKnownMemberId {
                group.pendingMembers[newId] = now + .milliseconds(Int64(call.sessionTimeoutMs))
                return .failed(.memberIdRequired, memberId: newId)
            }
            return await self.addMember(newId, to: group, call: call, now: now)
        }
        if group.pendingMembers.removeValue(forKey: call.memberId) != nil {
            return await self.addMember(call.memberId, to: group, call: call, now: now)
        }
        if let instance = call.groupInstanceId, let holder = group.staticMembers[instance], holder != call.memberId {
            return .failed(.fencedInstanceId, memberId: call.memberId)
        }
        guard let member = group.member(call.memberId) else { return .failed(.unknownMemberId, memberId: call.memberId) }
        switch group.state {
        case .preparingRebalance:
            member.update(from: call)
            return await self.awaitJoin(member, group: group, now: now)
        case .completingRebalance where member.protocols == call.protocols,
             .stable where member.protocols == call.protocols && member.memberId != group.leaderId:
            // Nothing changed: the member gets the current generation again (a follower's view in Stable).
            member.heartbeat(now: now)
            return self.joinResult(group, for: member)
        case .completingRebalance, .stable:
            let why = member.protocols != call.protocols ? "Updating metadata for member" : "Leader rejoining:"
            member.update(from: call)
            self.prepareRebalance(group, reason: "\(why) \(member.memberId) during \(group.state.rawValue)", now: now)
            return await self.awaitJoin(member, group: group, now: now)
        case .empty, .dead:
            return .failed(.unknownMemberId, memberId: call.memberId)
        }
    }

    private func addMember(_ memberId: String, to group: ConsumerGroup, call: JoinGroupCall, now: ContinuousClock.Instant) async -> JoinGroupResult {
        guard group.members.count < self.settings.maxGroupSize else { return .failed(.groupMaxSizeReached, memberId: memberId) }
        let member = GroupMember(memberId: memberId, call: call, now: now)
        group.add(member)
        if group.state == .preparingRebalance, let start = group.joinStart, group.inInitialDelay {
            // Kafka's InitialDelayedJoin: each new member during the delay buys another delay, within the rebalance timeout.
            group.joinNotBefore = min(now + .milliseconds(self.settings.initialRebalanceDelayMs), start + group.rebalanceTimeout)
        }
        self.prepareRebalance(group, reason: "Adding new member \(memberId) with group instance id \(call.groupInstanceId ?? "None")", now: now)
        return await self.awaitJoin(member, group: group, now: now)
    }

    private func rejoinStaticMember(
        _ member: GroupMember, group: ConsumerGroup, newId: String, call: JoinGroupCall, now: ContinuousClock.Instant
    ) async -> JoinGroupResult {
        let oldId = member.memberId
        let unchanged = member.protocols == call.protocols
        // The old id is fenced: whatever it still waits for ends now.
        member.awaitingJoin?.resume(returning: .failed(.fencedInstanceId, memberId: oldId))
        member.awaitingJoin = nil
        member.awaitingSync?.resume(returning: SyncGroupResult(error: .fencedInstanceId))
        member.awaitingSync = nil
        let wasLeader = group.leaderId == oldId
        group.replaceStaticMember(member, with: newId)
        member.update(from: call)
        member.heartbeat(now: now)
        self.logger.info("Static member with group instance id \(call.groupInstanceId ?? "") of group \(group.groupId) rejoined: member id \(oldId) replaced by \(newId)")
        if group.state == .stable && unchanged && !wasLeader {
            // KIP-345: a known static member coming back with the same subscription keeps its assignment, no rebalance.
            return self.joinResult(group, for: member)
        }
        if group.state != .preparingRebalance {
            self.prepareRebalance(group, reason: "Static member \(newId) rejoined with changed metadata or as leader", now: now)
        }
        return await self.awaitJoin(member, group: group, now: now)
    }

    private func awaitJoin(_ member: GroupMember, group: ConsumerGroup, now: ContinuousClock.Instant) async -> JoinGroupResult {
        member.heartbeat(now: now)
        return await withCheckedContinuation { continuation in
            member.awaitingJoin?.resume(returning: .failed(.rebalanceInProgress, memberId: member.memberId))
            member.awaitingJoin = continuation
            self.tryCompleteJoin(group, now: now)
        }
    }

    private func prepareRebalance(_ group: ConsumerGroup, reason: String, now: ContinuousClock.Instant) {
        guard group.state != .preparingRebalance else { return }
        if group.state == .completingRebalance {
            for member in group.members {
                member.assignment = []
                member.awaitingSync?.resume(returning: SyncGroupResult(error: .rebalanceInProgress))
                member.awaitingSync = nil
            }
        }
        let wasEmpty = group.state == .empty
        self.logger.info("Preparing to rebalance group \(group.groupId) in state PreparingRebalance with old generation \(group.generationId) (reason: \(reason))")
        group.state = .preparingRebalance
        group.joinStart = now
        group.joinDeadline = now + group.rebalanceTimeout
        if wasEmpty && self.settings.initialRebalanceDelayMs > 0 {
            group.inInitialDelay = true
            group.joinNotBefore = min(now + .milliseconds(self.settings.initialRebalanceDelayMs), now + group.rebalanceTimeout)
        } else {
            group.inInitialDelay = false
            group.joinNotBefore = nil
        }
    }

    private func tryCompleteJoin(_ group: ConsumerGroup, now: ContinuousClock.Instant) {
        guard group.state == .preparingRebalance else { return }
        if let notBefore = group.joinNotBefore, now < notBefore { return }
        let pastDeadline = group.joinDeadline.map { now >= $0 } ?? false
        if group.allMembersJoined || pastDeadline { self.completeJoin(group, now: now) }
    }

    private func completeJoin(_ group: ConsumerGroup, now: ContinuousClock.Instant) {
        for member in group.members where member.awaitingJoin == nil {
            self.logger.info("Member \(member.memberId) of group \(group.groupId) did not rejoin in time; removing it")
            group.remove(member.memberId)
        }
        group.pendingMembers.removeAll()
        group.joinNotBefore = nil
        group.joinDeadline = nil
        group.joinStart = nil
        group.inInitialDelay = false
        group.generationId += 1
        guard !group.members.isEmpty else {
            group.state = .empty
            group.protocolName = nil
            group.leaderId = nil
            self.logger.info("Group \(group.groupId) with generation \(group.generationId) is now empty")
            return
        }
        group.protocolName = group.selectProtocol()
        if group.leaderId.flatMap(group.member) == nil { group.leaderId = group.members.first?.memberId }
        group.state = .completingRebalance
        self.logger.info("Stabilized group \(group.groupId) generation \(group.generationId) with \(group.members.count) members (protocol \(group.protocolName ?? "none"), leader \(group.leaderId ?? ""))")
        for member in group.members {
            member.heartbeat(now: now)
            let result = self.joinResult(group, for: member)
            member.awaitingJoin?.resume(returning: result)
            member.awaitingJoin = nil
        }
    }

    private func joinResult(_ group: ConsumerGroup, for member: GroupMember) -> JoinGroupResult {
        let isLeader = member.memberId == group.leaderId
        return JoinGroupResult(
            generationId: group.generationId, protocolType: group.protocolType, protocolName: group.protocolName,
            leaderId: group.leaderId ?? "", memberId: member.memberId,
            members: isLeader ? group.members.map {
                .init(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, metadata: $0.metadata(for: group.protocolName))
            } : [])
    }

    // MARK: SyncGroup, Heartbeat, LeaveGroup

    public func sync(
        groupId: String, generationId: Int32, memberId: String, groupInstanceId: String?, protocolType: String?,
        protocolName: String?, assignments: [String: [UInt8]]
    ) async -> SyncGroupResult {
        let group: ConsumerGroup, member: GroupMember
        switch self.knownMember(groupId: groupId, memberId: memberId, groupInstanceId: groupInstanceId) {
        case .failed(let code): return SyncGroupResult(error: code)
        case .found(let foundGroup, let foundMember): (group, member) = (foundGroup, foundMember)
        }
        guard generationId == group.generationId else { return SyncGroupResult(error: .illegalGeneration) }
        if let protocolType, protocolType != group.protocolType { return SyncGroupResult(error: .inconsistentGroupProtocol) }
        if let protocolName, protocolName != group.protocolName { return SyncGroupResult(error: .inconsistentGroupProtocol) }
        let now = ContinuousClock.now
        switch group.state {
        case .empty, .dead: return SyncGroupResult(error: .unknownMemberId)
        case .preparingRebalance: return SyncGroupResult(error: .rebalanceInProgress)
        case .stable:
            member.heartbeat(now: now)
            return SyncGroupResult(protocolType: group.protocolType, protocolName: group.protocolName, assignment: member.assignment)
        case .completingRebalance:
            member.heartbeat(now: now)
            return await withCheckedContinuation { continuation in
                member.awaitingSync?.resume(returning: SyncGroupResult(error: .rebalanceInProgress))
                member.awaitingSync = continuation
                guard member.memberId == group.leaderId else { return }
                for each in group.members { each.assignment = assignments[each.memberId] ?? [] }
                group.state = .stable
                self.logger.info("Assignment received from leader \(member.memberId) for group \(group.groupId) for generation \(group.generationId); the group is Stable")
                for each in group.members {
                    each.awaitingSync?.resume(returning: SyncGroupResult(
                        protocolType: group.protocolType, protocolName: group.protocolName, assignment: each.assignment))
                    each.awaitingSync = nil
                }
            }
        }
    }

    public func heartbeat(groupId: String, generationId: Int32, memberId: String, groupInstanceId: String?) -> ErrorCode {
        let group: ConsumerGroup, member: GroupMember
        switch self.knownMember(groupId: groupId, memberId: memberId, groupInstanceId: groupInstanceId) {
        case .failed(let code): return code
        case .found(let foundGroup, let foundMember): (group, member) = (foundGroup, foundMember)
        }
        switch group.state {
        case .empty, .dead: return .unknownMemberId
        case .preparingRebalance:
            member.heartbeat(now: .now)
            return .rebalanceInProgress
        case .completingRebalance, .stable:
            guard generationId == group.generationId else { return .illegalGeneration }
            member.heartbeat(now: .now)
            return .none
        }
    }

    /// Removes members (LeaveGroup). - Returns: one code per member, in order; the group is rebalanced once.
    public func leave(groupId: String, members: [(memberId: String, groupInstanceId: String?)]) -> [ErrorCode] {
        guard let group = self.groups[groupId], group.state != .dead else { return members.map { _ in .unknownMemberId } }
        return members.map { leaving in
            var memberId = leaving.memberId
            if memberId.isEmpty, let instance = leaving.groupInstanceId { memberId = group.staticMembers[instance] ?? "" }
            if let instance = leaving.groupInstanceId, let holder = group.staticMembers[instance], holder != memberId {
                return .fencedInstanceId
            }
            guard let member = group.member(memberId) else { return .unknownMemberId }
            self.removeMember(member, from: group, reason: "removing member \(memberId) on LeaveGroup")
            return .none
        }
    }

    private func removeMember(_ member: GroupMember, from group: ConsumerGroup, reason: String) {
        let now = ContinuousClock.now
        member.awaitingJoin?.resume(returning: .failed(.unknownMemberId, memberId: member.memberId))
        member.awaitingJoin = nil
        member.awaitingSync?.resume(returning: SyncGroupResult(error: .unknownMemberId))
        member.awaitingSync = nil
        group.remove(member.memberId)
        switch group.state {
        case .stable, .completingRebalance:
            self.prepareRebalance(group, reason: reason, now: now)
            self.tryCompleteJoin(group, now: now)
        case .preparingRebalance:
            self.tryCompleteJoin(group, now: now)
        case .empty, .dead:
            break
        }
    }

    private func knownMember(groupId: String, memberId: String, groupInstanceId: String?) -> MemberLookup {
        guard !groupId.isEmpty else { return .failed(.invalidGroupId) }
        guard let group = self.groups[groupId] else { return .failed(.unknownMemberId) }
        if let instance = groupInstanceId, let holder = group.staticMembers[instance], holder != memberId {
            return .failed(.fencedInstanceId)
        }
        guard let member = group.member(memberId) else { return .failed(.unknownMemberId) }
        return .found(group, member)
    }

    private enum MemberLookup {
        case found(ConsumerGroup, GroupMember)
        case failed(ErrorCode)
    }

    private func tick() {
        let now = ContinuousClock.now
        for group in self.groups.values {
            for member in group.members where member.awaitingJoin == nil && member.awaitingSync == nil && now >= member.sessionDeadline {
                self.logger.info("Member \(member.memberId) in group \(group.groupId) has failed (no heartbeat for \(member.sessionTimeoutMs) ms), removing it from the group")
                self.removeMember(member, from: group, reason: "removing member \(member.memberId) on heartbeat expiration")
            }
            let expiredPending = group.pendingMembers.filter { now >= $0.value }.keys
            for memberId in expiredPending { group.pendingMembers[memberId] = nil }
            self.tryCompleteJoin(group, now: now)
        }
    }

    // MARK: Offsets, listing, deletion

    /// Whether `committer` may commit offsets for `groupId` now, as Kafka's handleCommitOffsets decides. A standalone
    /// consumer (generation < 0) may commit to an empty or unknown group, which then exists (Empty).
    public func validateCommit(groupId: String, committer: OffsetCommitter) -> ErrorCode {
        guard !groupId.isEmpty else { return .invalidGroupId }
        guard let group = self.groups[groupId] else {
            guard committer.generationId < 0 else { return .illegalGeneration }
            self.groups[groupId] = ConsumerGroup(groupId: groupId)
            return .none
        }
        if committer.generationId < 0 && group.state == .empty { return .none }
        let member: GroupMember
        switch self.knownMember(groupId: groupId, memberId: committer.memberId, groupInstanceId: committer.groupInstanceId) {
        case .failed(let code): return code
        case .found(_, let foundMember): member = foundMember
        }
        guard committer.generationId == group.generationId else { return .illegalGeneration }
        switch group.state {
        case .completingRebalance: return .rebalanceInProgress
        case .dead: return .coordinatorNotAvailable
        case .empty, .preparingRebalance, .stable:
            member.heartbeat(now: .now)  // a commit proves the member alive, as in Kafka
            return .none
        }
    }

    public func describe(_ groupId: String) -> GroupDescription? {
        self.groups[groupId]?.describe()
    }

    public func listGroups() -> [(groupId: String, protocolType: String, state: GroupState)] {
        self.groups.values.filter { $0.state != .dead }.map { ($0.groupId, $0.protocolType ?? "", $0.state) }
    }

    public enum Deletion: Sendable {
        case deleted
        case notEmpty
        /// The group has no members known here (it may still have offsets in the store).
        case notLoaded
    }

    /// Forgets an empty group (DeleteGroups); its offsets are the caller's to delete.
    public func delete(_ groupId: String) -> Deletion {
        guard let group = self.groups[groupId] else { return .notLoaded }
        guard group.members.isEmpty, group.pendingMembers.isEmpty else { return .notEmpty }
        group.state = .dead
        self.groups[groupId] = nil
        self.logger.info("Group \(groupId) deleted; it is now Dead")
        return .deleted
    }

    /// Drops the groups this broker no longer coordinates (their partition has another leader): members waiting
    /// for a generation or an assignment are told NOT_COORDINATOR and find the new coordinator.
    public func retainGroups(where isCoordinated: (String) -> Bool) {
        for (groupId, group) in self.groups where !isCoordinated(groupId) {
            for member in group.members {
                member.awaitingJoin?.resume(returning: .failed(.notCoordinator, memberId: member.memberId))
                member.awaitingJoin = nil
                member.awaitingSync?.resume(returning: SyncGroupResult(error: .notCoordinator))
                member.awaitingSync = nil
            }
            group.state = .dead
            self.groups[groupId] = nil
            self.logger.info("Unloaded group \(groupId): its coordinator partition moved to another broker")
        }
    }

    /// Releases every group (waiting joins and syncs answer NOT_COORDINATOR, so members look for the next
    /// coordinator) and refuses joins from now on: the broker is stopping.
    public func shutDown() {
        self.isShutDown = true
        self.retainGroups { _ in false }
    }

    /// A Java-style random UUID (8-4-4-4-12 hex), the suffix of Kafka's member ids.
    static func randomUUIDString() -> String {
        let uuid = KafkaUUID.random()
        let hex = String(uuid.high, radix: 16).leftPadded(to: 16) + String(uuid.low, radix: 16).leftPadded(to: 16)
        let chars = Array(hex)
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(chars[$0]) }.joined(separator: "-")
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - self.count)) + self
    }
}

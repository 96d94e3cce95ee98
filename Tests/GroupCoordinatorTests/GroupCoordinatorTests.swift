import GroupCoordinator
import KafkaModel
import Testing

@Suite struct GroupCoordinatorTests {
    static func settings(initialDelayMs: Int64 = 0) -> GroupCoordinatorSettings {
        var settings = GroupCoordinatorSettings()
        settings.minSessionTimeoutMs = 10
        settings.initialRebalanceDelayMs = initialDelayMs
        settings.tickInterval = .milliseconds(10)
        return settings
    }

    static func call(
        _ memberId: String = "", group: String = "g", instance: String? = nil, sessionMs: Int32 = 10_000,
        protocols: [String] = ["range"], requireKnownMemberId: Bool = true
    ) -> JoinGroupCall {
        JoinGroupCall(
            groupId: group, memberId: memberId, groupInstanceId: instance, clientId: "client", clientHost: "/127.0.0.1",
            sessionTimeoutMs: sessionMs, rebalanceTimeoutMs: 5_000, protocolType: "consumer",
            protocols: protocols.map { GroupProtocol(name: $0, metadata: Array("\($0)-\(memberId)".utf8)) },
            requireKnownMemberId: requireKnownMemberId)
    }

    /// Joins with the MEMBER_ID_REQUIRED round trip a v4+ client makes.
    static func join(_ coordinator: GroupCoordinator, _ base: JoinGroupCall) async -> JoinGroupResult {
        let first = await coordinator.join(base)
        guard first.error == .memberIdRequired else { return first }
        #expect(first.memberId.hasPrefix("client-") && base.requireKnownMemberId && base.groupInstanceId == nil)
        var again = base
        again.memberId = first.memberId
        return await coordinator.join(again)
    }

    @Test func twoMembersFormAGenerationAndTheLeadersAssignmentReachesBoth() async throws {
        // Members joining at about the same time form one generation thanks to the initial delay, as in Kafka.
        let coordinator = GroupCoordinator(settings: Self.settings(initialDelayMs: 200))
        let runner = Task { await coordinator.run() }
        defer { runner.cancel() }
        async let a = Self.join(coordinator, Self.call())
        async let b = Self.join(coordinator, Self.call())
        let (joinA, joinB) = await (a, b)
        #expect(joinA.error == .none && joinB.error == .none)
        #expect(joinA.generationId == 1 && joinB.generationId == 1 && joinA.protocolName == "range")
        #expect(joinA.leaderId == joinB.leaderId)
        let (leader, follower) = joinA.memberId == joinA.leaderId ? (joinA, joinB) : (joinB, joinA)
        #expect(Set(leader.members.map(\.memberId)) == [joinA.memberId, joinB.memberId] && follower.members.isEmpty)
        #expect(await coordinator.describe("g")?.members.count == 2)

        async let followerSync = coordinator.sync(
            groupId: "g", generationId: 1, memberId: follower.memberId, groupInstanceId: nil, protocolType: "consumer",
            protocolName: "range", assignments: [:])
        let leaderSync = await coordinator.sync(
            groupId: "g", generationId: 1, memberId: leader.memberId, groupInstanceId: nil, protocolType: "consumer",
            protocolName: "range", assignments: [leader.memberId: [1], follower.memberId: [2]])
        let followerAssignment = await followerSync.assignment
        #expect(leaderSync.assignment == [1] && followerAssignment == [2])
        let described = try #require(await coordinator.describe("g"))
        #expect(described.state == .stable && described.protocolName == "range")
        #expect(await coordinator.heartbeat(groupId: "g", generationId: 1, memberId: follower.memberId, groupInstanceId: nil) == .none)
        #expect(await coordinator.heartbeat(groupId: "g", generationId: 0, memberId: follower.memberId, groupInstanceId: nil) == .illegalGeneration)
        #expect(await coordinator.heartbeat(groupId: "g", generationId: 1, memberId: "nobody", groupInstanceId: nil) == .unknownMemberId)
    }

    @Test func aMemberWhoseSessionExpiresIsRemovedAndTheOthersRejoin() async throws {
        let coordinator = GroupCoordinator(settings: Self.settings(initialDelayMs: 200))
        let runner = Task { await coordinator.run() }
        defer { runner.cancel() }
        async let a = Self.join(coordinator, Self.call(sessionMs: 300))
        async let b = Self.join(coordinator, Self.call(sessionMs: 300))
        let (joinA, joinB) = await (a, b)
        async let syncB = coordinator.sync(groupId: "g", generationId: 1, memberId: joinB.memberId, groupInstanceId: nil, protocolType: nil, protocolName: nil, assignments: [:])
        async let syncA = coordinator.sync(groupId: "g", generationId: 1, memberId: joinA.memberId, groupInstanceId: nil, protocolType: nil, protocolName: nil,
                                           assignments: [joinA.memberId: [1], joinB.memberId: [2]])
        _ = await (syncA, syncB)
        // Only A heartbeats; B's session runs out and A is told to rejoin.
        var code = ErrorCode.none
        let deadline = ContinuousClock.now + .seconds(5)
        while code == .none && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            code = await coordinator.heartbeat(groupId: "g", generationId: 1, memberId: joinA.memberId, groupInstanceId: nil)
        }
        #expect(code == .rebalanceInProgress)
        let rejoin = await coordinator.join(Self.call(joinA.memberId, sessionMs: 300))
        #expect(rejoin.generationId == 2 && rejoin.leaderId == joinA.memberId && rejoin.members.map(\.memberId) == [joinA.memberId])
    }

    @Test func aStaticMemberComingBackKeepsItsAssignmentWithoutARebalance() async throws {
        let coordinator = GroupCoordinator(settings: Self.settings(initialDelayMs: 200))
        let runner = Task { await coordinator.run() }
        defer { runner.cancel() }
        async let a = Self.join(coordinator, Self.call(instance: "host-a"))
        async let b = Self.join(coordinator, Self.call(instance: "host-b"))
        let (joinA, joinB) = await (a, b)
        let (leader, follower) = joinA.memberId == joinA.leaderId ? (joinA, joinB) : (joinB, joinA)
        let followerInstance = follower.memberId == joinA.memberId ? "host-a" : "host-b"
        async let followerSync = coordinator.sync(groupId: "g", generationId: 1, memberId: follower.memberId, groupInstanceId: followerInstance,
                                                  protocolType: nil, protocolName: nil, assignments: [:])
        _ = await coordinator.sync(groupId: "g", generationId: 1, memberId: leader.memberId, groupInstanceId: nil, protocolType: nil,
                                   protocolName: nil, assignments: [leader.memberId: [1], follower.memberId: [7]])
        _ = await followerSync
        // The follower restarts: a new member id, the same generation, its assignment through SyncGroup.
        let back = await coordinator.join(Self.call(instance: followerInstance))
        #expect(back.error == .none && back.generationId == 1 && back.memberId != follower.memberId)
        let sync = await coordinator.sync(groupId: "g", generationId: 1, memberId: back.memberId, groupInstanceId: followerInstance,
                                          protocolType: nil, protocolName: nil, assignments: [:])
        #expect(sync.assignment == [7])
        #expect(await coordinator.heartbeat(groupId: "g", generationId: 1, memberId: follower.memberId, groupInstanceId: followerInstance) == .fencedInstanceId)
        #expect(await coordinator.describe("g")?.state == .stable)
    }

    @Test func incompatibleProtocolsAndBadSessionTimeoutsAreRefused() async {
        let coordinator = GroupCoordinator(settings: Self.settings())
        _ = await coordinator.join(Self.call(requireKnownMemberId: false)).memberId
        #expect(await coordinator.join(Self.call(protocols: ["roundrobin"], requireKnownMemberId: false)).error == .inconsistentGroupProtocol)
        #expect(await coordinator.join(Self.call(sessionMs: 5)).error == .invalidSessionTimeout)
        #expect(await coordinator.join(Self.call(group: "")).error == .invalidGroupId)
    }

    @Test func offsetCommitsAreCheckedAgainstTheGeneration() async {
        let coordinator = GroupCoordinator(settings: Self.settings())
        #expect(await coordinator.validateCommit(groupId: "standalone", committer: .init(memberId: "", generationId: -1, groupInstanceId: nil)) == .none)
        #expect(await coordinator.describe("standalone")?.state == .empty)
        #expect(await coordinator.validateCommit(groupId: "unknown", committer: .init(memberId: "m", generationId: 3, groupInstanceId: nil)) == .illegalGeneration)
        let joined = await coordinator.join(Self.call(requireKnownMemberId: false))
        #expect(await coordinator.validateCommit(groupId: "g", committer: .init(memberId: joined.memberId, generationId: 1, groupInstanceId: nil)) == .rebalanceInProgress)
        #expect(await coordinator.validateCommit(groupId: "g", committer: .init(memberId: joined.memberId, generationId: 2, groupInstanceId: nil)) == .illegalGeneration)
        #expect(await coordinator.validateCommit(groupId: "g", committer: .init(memberId: "", generationId: -1, groupInstanceId: nil)) == .unknownMemberId)
        #expect(await coordinator.delete("g") == .notEmpty)
        #expect(await coordinator.leave(groupId: "g", members: [(joined.memberId, nil)]) == [.none])
        #expect(await coordinator.describe("g")?.state == .empty)
        #expect(await coordinator.delete("g") == .deleted)
    }

    @Test func theInitialRebalanceDelayWaitsForMoreMembers() async throws {
        let coordinator = GroupCoordinator(settings: Self.settings(initialDelayMs: 300))
        let runner = Task { await coordinator.run() }
        defer { runner.cancel() }
        let start = ContinuousClock.now
        async let a = coordinator.join(Self.call(requireKnownMemberId: false))
        try await Task.sleep(for: .milliseconds(100))
        async let b = coordinator.join(Self.call(requireKnownMemberId: false))
        let (joinA, joinB) = await (a, b)
        #expect(ContinuousClock.now - start >= .milliseconds(300))
        #expect(joinA.generationId == 1 && joinB.generationId == 1)
        #expect(max(joinA.members.count, joinB.members.count) == 2)
    }

    @Test func groupsMapToKafkasOffsetsPartitions() {
        // Java: Math.abs("my-group".hashCode()) % 50 and the same for a group whose hash is negative.
        #expect(GroupPartitioner.partition(of: "my-group", partitionCount: 50) == Int32(("my-group".javaHash & 0x7fff_ffff) % 50))
        #expect(GroupPartitioner.partition(of: "test-consumer-group", partitionCount: 50) == 17)
    }
}

extension String {
    var javaHash: Int32 { self.utf16.reduce(Int32(0)) { $0 &* 31 &+ Int32($1) } }
}

@Suite struct GroupCoordinatorShutdownTests {
    @Test func shuttingDownAnswersAWaitingJoinAndRefusesNewOnes() async throws {
        var settings = GroupCoordinatorSettings()
        settings.minSessionTimeoutMs = 10
        settings.initialRebalanceDelayMs = 60_000  // the join would wait a minute
        let coordinator = GroupCoordinator(settings: settings)
        async let waiting = coordinator.join(GroupCoordinatorTests.call(requireKnownMemberId: false))
        while await coordinator.describe("g")?.state != .preparingRebalance { try await Task.sleep(for: .milliseconds(5)) }
        await coordinator.shutDown()
        #expect(await waiting.error == .notCoordinator)
        #expect(await coordinator.join(GroupCoordinatorTests.call(requireKnownMemberId: false)).error == .notCoordinator)
    }
}

import Controller
import Coordination
import Testing

@Suite struct LeaderElectionTests {
    func state(_ leader: Int32, _ isr: [Int32], epoch: Int32 = 4) -> PartitionStateZNode {
        PartitionStateZNode(leader: leader, leaderEpoch: epoch, isr: isr, controllerEpoch: 1)
    }

    func decide(_ state: PartitionStateZNode, live: Set<Int32>, unclean: Bool = false) -> LeaderElection.Decision? {
        LeaderElection.onBrokerChange(assignment: [1, 2, 3], state: state, live: live, uncleanAllowed: unclean, controllerEpoch: 2)
    }

    @Test func nothingChangesWhileEveryoneLives() {
        #expect(self.decide(self.state(1, [1, 2, 3]), live: [1, 2, 3]) == nil)
        #expect(self.decide(self.state(2, [2]), live: [1, 2, 3]) == nil)  // ISR growth is the leader's job
    }

    @Test func aDeadFollowerLeavesTheISRWithANewEpoch() throws {
        let decision = try #require(self.decide(self.state(1, [1, 2, 3]), live: [1, 3]))
        #expect(decision.state == PartitionStateZNode(leader: 1, leaderEpoch: 5, isr: [1, 3], controllerEpoch: 2) && !decision.unclean)
    }

    @Test func aDeadLeaderIsReplacedByTheFirstLiveISRMemberInAssignmentOrder() throws {
        let decision = try #require(self.decide(self.state(1, [3, 1, 2]), live: [2, 3]))
        #expect(decision.state.leader == 2 && decision.state.isr == [3, 2] && decision.state.leaderEpoch == 5)
    }

    @Test func withoutALiveISRMemberThePartitionGoesOfflineKeepingItsLastISR() throws {
        let offline = try #require(self.decide(self.state(1, [1]), live: [2, 3]))
        #expect(offline.state.leader == -1 && offline.state.isr == [1])
        #expect(self.decide(offline.state, live: [2, 3]) == nil)  // stays offline
        // The last ISR member returns: it leads again, nothing lost.
        let back = try #require(self.decide(offline.state, live: [1, 2, 3]))
        #expect(back.state.leader == 1 && back.state.isr == [1] && !back.unclean)
    }

    @Test func uncleanElectionPicksALiveOutOfSyncReplicaAndSaysSo() throws {
        let decision = try #require(self.decide(self.state(1, [1]), live: [3, 2], unclean: true))
        #expect(decision.unclean && decision.state.leader == 2 && decision.state.isr == [2] && decision.state.leaderRecoveryState == 1)
    }

    @Test func preferredElectionMovesLeadershipBackToTheFirstReplica() {
        #expect(LeaderElection.preferred(assignment: [1, 2], state: self.state(2, [2, 1]), live: [1, 2], controllerEpoch: 3)?.leader == 1)
        #expect(LeaderElection.preferred(assignment: [1, 2], state: self.state(2, [2]), live: [1, 2], controllerEpoch: 3) == nil)
        #expect(LeaderElection.preferred(assignment: [1, 2], state: self.state(1, [1, 2]), live: [1, 2], controllerEpoch: 3) == nil)
    }
}

@Suite struct ControlledShutdownTests {
    func state(_ leader: Int32, _ isr: [Int32]) -> PartitionStateZNode {
        PartitionStateZNode(leader: leader, leaderEpoch: 7, isr: isr, controllerEpoch: 1)
    }

    @Test func leadershipMovesToAnotherLiveISRMemberAndTheBrokerLeavesTheISR() {
        let moved = LeaderElection.onControlledShutdown(of: 1, assignment: [1, 2, 3], state: self.state(1, [1, 3, 2]), live: [2, 3], controllerEpoch: 2)
        #expect(moved == .moved(PartitionStateZNode(leader: 2, leaderEpoch: 8, isr: [3, 2], controllerEpoch: 2)))
        let follower = LeaderElection.onControlledShutdown(of: 3, assignment: [1, 2, 3], state: self.state(1, [1, 3]), live: [1, 2], controllerEpoch: 2)
        #expect(follower == .moved(PartitionStateZNode(leader: 1, leaderEpoch: 8, isr: [1], controllerEpoch: 2)))
    }

    @Test func withNoOtherISRMemberThePartitionRemainsAndSingleReplicasAreLeftAlone() {
        #expect(LeaderElection.onControlledShutdown(of: 1, assignment: [1, 2], state: self.state(1, [1]), live: [2], controllerEpoch: 2) == .stuck)
        #expect(LeaderElection.onControlledShutdown(of: 1, assignment: [1], state: self.state(1, [1]), live: [], controllerEpoch: 2) == .unchanged)
        #expect(LeaderElection.onControlledShutdown(of: 3, assignment: [1, 2, 3], state: self.state(1, [1, 2]), live: [1, 2], controllerEpoch: 2) == .unchanged)
    }
}

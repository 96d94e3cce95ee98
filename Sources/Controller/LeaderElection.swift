import Coordination

/// The controller's decisions for one partition when brokers come and go (Kafka's `PartitionStateMachine` with the
/// offline-partition election strategy, ZooKeeper mode), as a pure function of the assignment, the current state
/// and the live brokers, so that each rule is unit-tested.
///
/// - Leader alive: dead replicas leave the ISR (leader epoch + 1), as Kafka's controller removes a failed broker's
///   replicas from every ISR.
/// - Leader dead (or none): the new leader is the first replica, in assignment order, that is alive and in the ISR;
///   the ISR keeps its live members. If no ISR member lives: with unclean election allowed, the first live replica
///   leads alone (records it never had are lost, which the caller logs); otherwise the partition is offline
///   (leader -1) and its ISR keeps the last members, so the first of them to return leads without loss.
/// Every change bumps the leader epoch and records the controller's epoch.
public enum LeaderElection {
    public struct Decision: Hashable, Sendable {
        public var state: PartitionStateZNode
        /// The new leader was not in the ISR: acknowledged records may be lost.
        public var unclean: Bool
    }

    /// - Returns: the new state, or `nil` when nothing changes.
    public static func onBrokerChange(
        assignment: [Int32], state: PartitionStateZNode, live: Set<Int32>, uncleanAllowed: Bool, controllerEpoch: Int32
    ) -> Decision? {
        func next(_ leader: Int32, _ isr: [Int32], unclean: Bool = false) -> Decision {
            Decision(
                state: PartitionStateZNode(
                    leader: leader, leaderEpoch: state.leaderEpoch + 1, isr: isr, controllerEpoch: controllerEpoch,
                    leaderRecoveryState: unclean ? 1 : nil),
                unclean: unclean)
        }
        let liveIsr = state.isr.filter(live.contains)
        if state.leader >= 0 && live.contains(state.leader) {
            return liveIsr == state.isr ? nil : next(state.leader, liveIsr)
        }
        if let leader = assignment.first(where: { live.contains($0) && state.isr.contains($0) }) {
            return next(leader, liveIsr)
        }
        if uncleanAllowed, let leader = assignment.first(where: live.contains) {
            return next(leader, [leader], unclean: true)
        }
        // Offline: keep the last ISR so that its first member to return can lead without loss.
        return state.leader == -1 ? nil : next(-1, liveIsr.isEmpty ? state.isr : liveIsr)
    }

    /// Controlled shutdown of `broker`: a partition it leads moves to the first other live ISR member in
    /// assignment order; it leaves the ISRs it is in (unless it is the last member). Single-replica partitions
    /// are left alone.
    /// - Returns: the new state, `nil` if nothing changes, or `.stuck` if it leads and no other ISR member can.
    public enum ShutdownDecision: Hashable, Sendable {
        case unchanged
        case moved(PartitionStateZNode)
        case stuck
    }

    public static func onControlledShutdown(
        of broker: Int32, assignment: [Int32], state: PartitionStateZNode, live: Set<Int32>, controllerEpoch: Int32
    ) -> ShutdownDecision {
        guard assignment.count > 1 else { return .unchanged }  // a single replica has nowhere to go (as Kafka)
        let others = state.isr.filter { $0 != broker }
        if state.leader == broker {
            guard let leader = assignment.first(where: { $0 != broker && live.contains($0) && state.isr.contains($0) }) else { return .stuck }
            return .moved(PartitionStateZNode(leader: leader, leaderEpoch: state.leaderEpoch + 1, isr: others, controllerEpoch: controllerEpoch))
        }
        guard state.isr.contains(broker), !others.isEmpty else { return .unchanged }
        return .moved(PartitionStateZNode(leader: state.leader, leaderEpoch: state.leaderEpoch + 1, isr: others, controllerEpoch: controllerEpoch))
    }

    /// Preferred-replica election: the first replica of the assignment leads again if it is alive and in the ISR.
    /// - Returns: the new state, or `nil` if it already leads or cannot.
    public static func preferred(assignment: [Int32], state: PartitionStateZNode, live: Set<Int32>, controllerEpoch: Int32) -> PartitionStateZNode? {
        guard let preferred = assignment.first, preferred != state.leader, live.contains(preferred), state.isr.contains(preferred) else {
            return nil
        }
        return PartitionStateZNode(leader: preferred, leaderEpoch: state.leaderEpoch + 1, isr: state.isr, controllerEpoch: controllerEpoch)
    }
}

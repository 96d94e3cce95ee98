import Coordination
import KafkaModel
import Logging
import ZooKeeper

/// The cluster controller of a broker: competes for the controllership and, while it holds it, makes the
/// leadership decisions. For now these are the decisions of Kafka's controller about topics: a new topic's (or a
/// newly added) partitions get their state znodes, leader = the first live replica of the assignment, ISR = the
/// live replicas in assignment order, leader epoch 0, and a partition with no live replica waits for a broker to
/// come back; topics marked under `/admin/delete_topics` are deleted. Failover and ISR changes are the cluster issue.
///
/// All decisions are made by one task (`run()`), like Kafka's single controller event thread.
/// Why the controller cannot do what it was asked.
public enum ControllerError: Error, Hashable, Sendable {
    /// This broker is not the active controller.
    case notController
    /// The broker named in a request is not registered.
    case brokerNotAvailable
    /// The request comes from an older registration of the broker than the current one.
    case staleBrokerEpoch
}

public actor Controller {
    private let election: ControllerElection
    private let client: ZooKeeperClient
    private let logger: Logger
    public private(set) var term: ControllerElection.Term?
    /// `delete.topic.enable`: when false, deletion marks are removed and topics kept.
    private let deleteTopicEnable: Bool
    /// `unclean.leader.election.enable`, the broker default (topics may override it); it can change at run time.
    private let uncleanLeaderElectionEnable: @Sendable () -> Bool
    /// Wakes the reconciliation of the active term (`configsChanged`).
    private var reconcile: AsyncStream<Void>.Continuation?
    /// Topics whose deletion waits for an offline broker (logged once).
    private var pausedDeletions: Set<String> = []

    public init(
        brokerId: Int32, client: ZooKeeperClient, deleteTopicEnable: Bool = true,
        uncleanLeaderElectionEnable: @escaping @Sendable () -> Bool = { false }, logger: Logger = Logger(label: "ferry.controller")
    ) {
        self.uncleanLeaderElectionEnable = uncleanLeaderElectionEnable
        self.election = ControllerElection(brokerId: brokerId, client: client)
        self.client = client
        self.deleteTopicEnable = deleteTopicEnable
        var logger = logger
        logger[metadataKey: "broker"] = "\(brokerId)"
        self.logger = logger
    }

    public var isActive: Bool { self.term != nil }

    /// A topic's config or the broker's dynamic config changed: while controller, look at every partition again, so
    /// that a partition left offline waits no longer once unclean election is allowed (Kafka's
    /// `enableTopicUncleanLeaderElection`).
    public func configsChanged() {
        self.reconcile?.yield()
    }

    /// Competes for the controllership until cancelled; while controller, reacts to topics and brokers.
    public func run() async {
        while !Task.isCancelled {
            do {
                if let term = try await self.election.attempt(timestamp: wallClockMillis()) {
                    self.term = term
                    self.logger.notice("became controller with epoch \(term.epoch)")
                    await self.actAsController(term)
                    self.term = nil
                    self.logger.notice("resigned as controller (epoch \(term.epoch))")
                } else {
                    // Someone else leads: wait until /controller goes (or changes), then try again.
                    let (current, watch) = try await self.election.currentController()
                    if current != nil { _ = try await watch.event() }
                }
            } catch is CancellationError {
                return
            } catch {
                self.logger.warning("controller election interrupted: \(error); retrying")
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    /// Acts on topic and broker changes until this broker stops being controller.
    private func actAsController(_ term: ControllerElection.Term) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.watchOwnership(term) }
            group.addTask { await self.reconcileOnChanges(term) }
            _ = await group.next()  // ownership lost (or cancelled): stop reconciling
            group.cancelAll()
        }
    }

    /// Returns when `/controller` no longer names this broker.
    private func watchOwnership(_ term: ControllerElection.Term) async {
        while !Task.isCancelled {
            guard let (current, watch) = try? await self.election.currentController() else {
                try? await Task.sleep(for: .milliseconds(200))
                continue
            }
            guard current == self.election.brokerId else { return }
            _ = try? await watch.event()
        }
    }

    /// Re-examines every topic whenever the topic list, a topic's assignment (added partitions), the live brokers or
    /// the deletion markers change.
    private func reconcileOnChanges(_ term: ControllerElection.Term) async {
        let (changes, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        func follow(_ stream: AsyncThrowingStream<some Sendable, any Error>) -> Task<Void, Never> {
            Task { do { for try await _ in stream { continuation.yield() } } catch {} }
        }
        let followers = [
            follow(self.client.follow(children: ZNodes.brokerTopics)),
            follow(self.client.follow(children: ZNodes.brokerIds)),
            follow(self.client.follow(children: ZNodes.deleteTopics)),
            follow(self.client.follow(children: ZNodes.isrChangeNotification)),
            follow(self.client.follow(node: ZNodes.preferredReplicaElection)),
            follow(self.client.follow(node: ZNodes.reassignPartitions)),
        ]
        var topicFollowers: [String: Task<Void, Never>] = [:]
        self.reconcile = continuation
        defer {
            for task in followers + Array(topicFollowers.values) { task.cancel() }
            continuation.finish()
            self.reconcile = nil
        }
        for await _ in changes {
            do {
                let live = Set(try await self.client.children(ZNodes.brokerIds).compactMap(Int32.init))
                try await self.deleteMarkedTopics(term, live: live)
                let topics = Set(try await self.client.children(ZNodes.brokerTopics))
                // A data watch per topic: CreatePartitions and `--alter --partitions` rewrite the assignment.
                for gone in Set(topicFollowers.keys).subtracting(topics) { topicFollowers.removeValue(forKey: gone)?.cancel() }
                for added in topics.subtracting(topicFollowers.keys) {
                    topicFollowers[added] = follow(self.client.follow(node: ZNodes.topic(added)))
                }
                let partitions = try await self.partitionSnapshots(topics.sorted())
                try await self.createMissingPartitionStates(term, partitions, live: live)
                try await self.electLeaders(term, partitions, live: live)
                try await self.removeIsrChangeNotifications(term)
                try await self.handlePreferredReplicaElectionRequest(term)
                try await self.continueReassignments(term, live: live)
            } catch let error as ZooKeeperError where error.code == .badVersion {
                self.logger.warning("a newer controller has taken over (write fenced by /controller_epoch)")
                return
            } catch {
                self.logger.warning("could not complete partition states: \(error)")
            }
        }
    }

    /// Deletes the topics marked under `/admin/delete_topics` (Kafka's TopicDeletionManager, without the
    /// StopReplica round trip: brokers delete their replicas' logs when they see the topic gone from ZooKeeper).
    /// A topic with a replica on an offline broker waits, so no broker misses the deletion; markers of topics
    /// that do not exist, or all markers when `delete.topic.enable` is false, are removed.
    func deleteMarkedTopics(_ term: ControllerElection.Term, live: Set<Int32>) async throws {
        for topic in try await self.client.children(ZNodes.deleteTopics).sorted() {
            guard self.deleteTopicEnable else {
                self.logger.warning("topic \(topic) is marked for deletion but delete.topic.enable is false: removing the mark")
                try await self.deleteFenced([ZNodes.deleteTopic(topic)], term: term)
                continue
            }
            guard let node = try await self.client.getIfExists(ZNodes.topic(topic)) else {
                try await self.deleteFenced([ZNodes.deleteTopic(topic)], term: term)
                continue
            }
            let assignment = try? TopicAssignment.decode(node.data, topic: topic)
            let replicas = Set(assignment?.partitions.values.flatMap { $0 } ?? [])
            let offline = replicas.subtracting(live)
            guard offline.isEmpty else {
                if !self.pausedDeletions.contains(topic) {
                    self.logger.info("deletion of topic \(topic) waits for offline replica brokers \(offline.sorted())")
                    self.pausedDeletions.insert(topic)
                }
                continue
            }
            self.pausedDeletions.remove(topic)
            var paths = try await self.subtree(ZNodes.topic(topic))
            if try await self.client.exists(ZNodes.topicConfig(topic)) != nil { paths.append(ZNodes.topicConfig(topic)) }
            paths.append(ZNodes.deleteTopic(topic))
            try await self.deleteFenced(paths, term: term)
            self.logger.notice("deleted topic \(topic) (replicas on brokers \(replicas.sorted()))")
        }
    }

    /// `path` and every znode below it, children before their parents (the order a multi can delete them in).
    private func subtree(_ path: String) async throws -> [String] {
        var paths: [String] = []
        for child in try await self.client.children(path) { paths += try await self.subtree(path + "/" + child) }
        return paths + [path]
    }

    /// Applies `LeaderElection.onBrokerChange` to every partition with a state: new leaders for partitions whose
    /// leader died (or that were offline), dead replicas out of the ISRs. Each write is a compare-and-set on the
    /// state znode's version, fenced by the controller epoch; a lost race is re-examined at the next change.
    func electLeaders(_ term: ControllerElection.Term, topics: [String], live: Set<Int32>) async throws {
        try await self.electLeaders(term, try await self.partitionSnapshots(topics), live: live)
    }

    private func electLeaders(_ term: ControllerElection.Term, _ snapshots: [PartitionSnapshot], live: Set<Int32>) async throws {
        let partitions = snapshots.compactMap { $0.withState }
        // A topic's unclean-election setting matters only for a partition none of whose ISR is alive.
        var uncleanAllowed: [String: Bool] = [:]
        for topic in Set(partitions.filter { !$0.state.isr.contains(where: live.contains) }.map(\.topic)) {
            uncleanAllowed[topic] = try await self.uncleanLeaderElectionEnabled(topic)
        }
        let decisions = partitions.compactMap { partition in
            LeaderElection.onBrokerChange(
                assignment: partition.replicas, state: partition.state, live: live,
                uncleanAllowed: uncleanAllowed[partition.topic] ?? false, controllerEpoch: term.epoch
            ).map { (partition, $0) }
        }
        let written = try await self.writeStates(decisions.map { ($0.0, $0.1.state) }, term: term)
        for ((partition, decision), done) in zip(decisions, written) where done {
            let next = decision.state
            let name = "\(partition.topic)-\(partition.partition)"
            if decision.unclean {
                self.logger.warning(
                    "partition \(name): unclean leader election of \(next.leader) (ISR \(partition.state.isr) all offline); records not replicated to it are lost")
            } else if next.leader == -1 {
                self.logger.warning("partition \(name) is offline: no live replica in ISR \(partition.state.isr)")
            } else {
                self.logger.info("partition \(name): leader \(next.leader), isr \(next.isr), leader epoch \(next.leaderEpoch)")
            }
        }
    }

    /// A partition as one pass of the controller reads it: its replicas and its state znode, if it has one.
    struct PartitionSnapshot: Sendable {
        var topic: String
        var partition: Int32
        var replicas: [Int32]
        /// `nil` when the state znode is missing or unreadable.
        var state: PartitionStateZNode?
        /// `nil` when the state znode is missing.
        var stateVersion: Int32?

        /// The partition with its (readable) state.
        var withState: (topic: String, partition: Int32, replicas: [Int32], state: PartitionStateZNode, stateVersion: Int32)? {
            guard let state, let stateVersion else { return nil }
            return (self.topic, self.partition, self.replicas, state, stateVersion)
        }
    }

    /// The assignments of `topics` and the state znodes of their partitions (those `including` keeps), in topic
    /// and partition order. The reads are issued together and the ZooKeeper session pipelines them, so a pass over
    /// many partitions costs a few round trips instead of two per partition, as Kafka's controller pipelines its
    /// ZooKeeper requests. Topics without an assignment are left out.
    private func partitionSnapshots(
        _ topics: [String], including keep: @escaping @Sendable (_ replicas: [Int32]) -> Bool = { _ in true }
    ) async throws -> [PartitionSnapshot] {
        let client = self.client
        let assignments = try await withThrowingTaskGroup(of: (String, TopicAssignment?).self) { group in
            for topic in topics {
                group.addTask { (topic, try await client.getIfExists(ZNodes.topic(topic)).flatMap { try? TopicAssignment.decode($0.data, topic: topic) }) }
            }
            return try await group.reduce(into: [String: TopicAssignment]()) { $0[$1.0] = $1.1 }
        }
        let snapshots = try await withThrowingTaskGroup(of: PartitionSnapshot.self) { group in
            for (topic, assignment) in assignments {
                for (partition, replicas) in assignment.partitions where keep(replicas) {
                    group.addTask {
                        let node = try await client.getIfExists(ZNodes.partitionState(topic, partition))
                        return PartitionSnapshot(
                            topic: topic, partition: partition, replicas: replicas,
                            state: node.flatMap { try? PartitionStateZNode.decode($0.data, topic: topic, partition: partition) },
                            stateVersion: node?.stat.version)
                    }
                }
            }
            return try await group.reduce(into: [PartitionSnapshot]()) { $0.append($1) }
        }
        return snapshots.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
    }

    /// Writes each partition's new state (compare-and-set on the version read, fenced by the controller epoch).
    /// The writes go in order, `stateWriteBatch` to a multi (one ZooKeeper transaction, and one burst of watch
    /// events for the brokers rather than one per partition), the batches pipelined; a batch that loses a race on
    /// one state is written again partition by partition, so the others still go through.
    /// - Returns: per write, whether it went through (false: the znode changed meanwhile).
    /// - Throws: the `badVersion` error when a successor controller has taken over.
    private func writeStates(
        _ writes: [((topic: String, partition: Int32, replicas: [Int32], state: PartitionStateZNode, stateVersion: Int32), PartitionStateZNode)],
        term: ControllerElection.Term
    ) async throws -> [Bool] {
        let operations = writes.map { partition, next in
            ZooKeeperOperation.setData(
                path: ZNodes.partitionState(partition.topic, partition.partition), data: next.zNodeData(), version: partition.stateVersion)
        }
        return try await withThrowingTaskGroup(of: (Range<Int>, [Bool]).self) { group in
            for start in stride(from: 0, to: operations.count, by: Self.stateWriteBatch) {
                let batch = start..<min(start + Self.stateWriteBatch, operations.count)
                group.addTask {
                    if try await self.conditionalWriteOfExisting(Array(operations[batch]), term: term) {
                        return (batch, [Bool](repeating: true, count: batch.count))
                    }
                    return (batch, try await withThrowingTaskGroup(of: (Int, Bool).self) { single in
                        for index in batch {
                            single.addTask { (index, try await self.conditionalWriteOfExisting([operations[index]], term: term)) }
                        }
                        var done = [Bool](repeating: false, count: batch.count)
                        for try await (index, written) in single { done[index - batch.lowerBound] = written }
                        return done
                    })
                }
            }
            var done = [Bool](repeating: false, count: writes.count)
            for try await (batch, written) in group { done.replaceSubrange(batch, with: written) }
            return done
        }
    }

    /// `conditionalWrite`, where a znode deleted meanwhile (its topic's deletion) is a lost race too.
    private func conditionalWriteOfExisting(_ operations: [ZooKeeperOperation], term: ControllerElection.Term) async throws -> Bool {
        do {
            return try await self.conditionalWrite(operations, term: term)
        } catch let error as ZooKeeperError where error.code == .noNode {
            return false
        }
    }

    /// State writes per multi: well under ZooKeeper's 1 MiB request limit (`jute.maxbuffer`) at a few hundred bytes
    /// each.
    static let stateWriteBatch = 200

    /// Removes processed ISR change notifications. Brokers learn ISRs from the state znodes they follow, so the
    /// notifications (written by leaders for Kafka tooling) need only be cleaned up, as Kafka's controller does.
    private func removeIsrChangeNotifications(_ term: ControllerElection.Term) async throws {
        let notifications = try await self.client.children(ZNodes.isrChangeNotification)
        guard !notifications.isEmpty else { return }
        try await self.deleteFenced(notifications.map { ZNodes.isrChangeNotification + "/" + $0 }, term: term)
    }

    /// Kinds of election that can be asked for (ElectLeaders' election_type).
    public enum ElectionType: Int8, Sendable {
        /// The first replica of the assignment leads again, if alive and in the ISR.
        case preferred = 0
        /// An offline partition gets a live replica as leader even if it is not in the ISR.
        case unclean = 1
    }

    /// Elects leaders on request (ElectLeaders, `/admin/preferred_replica_election`, automatic rebalancing).
    /// - Parameter partitions: the partitions, or `nil` for every partition.
    /// - Returns: per partition, `.none` or why nothing was done (ELECTION_NOT_NEEDED,
    ///   PREFERRED_LEADER_NOT_AVAILABLE, ELIGIBLE_LEADERS_NOT_AVAILABLE, UNKNOWN_TOPIC_OR_PARTITION).
    public func elect(_ type: ElectionType, partitions: [TopicPartition]?) async throws -> [TopicPartition: ErrorCode] {
        guard let term = self.term else { throw ControllerError.notController }
        let live = Set(try await self.client.children(ZNodes.brokerIds).compactMap(Int32.init))
        // The requested partitions by topic; nil means every partition of every topic.
        let requested = partitions.map { Dictionary(grouping: $0, by: \.topic).mapValues { Set($0.map(\.partition)) } }
        var topics = requested.map { Array($0.keys) } ?? []
        if requested == nil { topics = try await self.client.children(ZNodes.brokerTopics) }
        var results: [TopicPartition: ErrorCode] = [:]
        for topic in topics.sorted() {
            let assignment = try await self.client.getIfExists(ZNodes.topic(topic)).flatMap { try? TopicAssignment.decode($0.data, topic: topic) }
            let ids = requested?[topic] ?? Set(assignment?.partitions.keys.map { $0 } ?? [])
            for id in ids.sorted() {
                let partition = TopicPartition(topic, id)
                let path = ZNodes.partitionState(topic, id)
                guard let replicas = assignment?.partitions[id], let node = try await self.client.getIfExists(path),
                      let state = try? PartitionStateZNode.decode(node.data, topic: topic, partition: id)
                else {
                    results[partition] = .unknownTopicOrPartition
                    continue
                }
                let next: PartitionStateZNode?
                switch type {
                case .preferred:
                    if replicas.first == state.leader {
                        results[partition] = .electionNotNeeded
                        continue
                    }
                    next = LeaderElection.preferred(assignment: replicas, state: state, live: live, controllerEpoch: term.epoch)
                    if next == nil { results[partition] = .preferredLeaderNotAvailable }
                case .unclean:
                    if state.leader >= 0 && live.contains(state.leader) {
                        results[partition] = .electionNotNeeded
                        continue
                    }
                    next = LeaderElection.onBrokerChange(
                        assignment: replicas, state: state, live: live, uncleanAllowed: true, controllerEpoch: term.epoch)?.state
                    if next?.leader ?? -1 < 0 { results[partition] = .eligibleLeadersNotAvailable }
                }
                guard let next, next.leader >= 0 else { continue }
                if try await self.conditionalWrite([.setData(path: path, data: next.zNodeData(), version: node.stat.version)], term: term) {
                    results[partition] = ErrorCode.none
                    self.logger.info("partition \(partition): leader \(next.leader) by \(type) election, leader epoch \(next.leaderEpoch)")
                } else {
                    results[partition] = .preferredLeaderNotAvailable  // changed meanwhile; the caller may ask again
                }
            }
        }
        return results
    }

    /// Acts on `/admin/preferred_replica_election` (the legacy tool's request): elects the listed partitions'
    /// preferred leaders, then deletes the request, as Kafka's controller does.
    private func handlePreferredReplicaElectionRequest(_ term: ControllerElection.Term) async throws {
        guard let node = try await self.client.getIfExists(ZNodes.preferredReplicaElection) else { return }
        let partitions = (try? PartitionListZNode.decode(node.data, path: ZNodes.preferredReplicaElection))?.topicPartitions
        _ = try await self.elect(.preferred, partitions: partitions)
        try await self.deleteFenced([ZNodes.preferredReplicaElection], term: term)
    }

    /// Moves partitions to new replicas as `/admin/reassign_partitions` asks (Kafka's reassignment, ZooKeeper mode):
    /// the assignment first lists the union of old and new replicas (with `adding_replicas`/`removing_replicas`), so
    /// the new ones fetch; once every new replica is in the ISR, the leader moves into the new set if needed, the
    /// ISR and assignment shrink to the new replicas (whose brokers then delete their old copies), and the entry is
    /// done. The request znode goes when every entry is done. Called on every change, so progress follows ISR
    /// changes (leaders announce them under `/isr_change_notification`).
    private func continueReassignments(_ term: ControllerElection.Term, live: Set<Int32>) async throws {
        guard let node = try await self.client.getIfExists(ZNodes.reassignPartitions) else { return }
        guard let request = try? ReassignPartitionsZNode.decode(node.data) else {
            self.logger.warning("ignoring an unreadable \(ZNodes.reassignPartitions); deleting it")
            try await self.deleteFenced([ZNodes.reassignPartitions], term: term)
            return
        }
        var pending: [ReassignPartitionsZNode.Entry] = []
        for entry in request.partitions {
            if try await !self.reassign(entry, term: term, live: live) { pending.append(entry) }
        }
        if pending.isEmpty {
            try await self.deleteFenced([ZNodes.reassignPartitions], term: term)
            self.logger.notice("partition reassignment complete")
        } else if pending.count < request.partitions.count {
            _ = try await self.conditionalWrite(
                [.setData(path: ZNodes.reassignPartitions, data: ReassignPartitionsZNode(partitions: pending).zNodeData(), version: node.stat.version)],
                term: term)
        }
    }

    /// One step of one partition's reassignment. - Returns: whether it is done (or impossible, and dropped).
    private func reassign(_ entry: ReassignPartitionsZNode.Entry, term: ControllerElection.Term, live: Set<Int32>) async throws -> Bool {
        let target = entry.replicas
        let topicPath = ZNodes.topic(entry.topic)
        guard let topicNode = try await self.client.getIfExists(topicPath),
              var assignment = try? TopicAssignment.decode(topicNode.data, topic: entry.topic),
              let current = assignment.partitions[entry.partition], !target.isEmpty, Set(target).count == target.count
        else {
            self.logger.warning("dropping the reassignment of \(entry.topic)-\(entry.partition): no such partition or a bad replica list")
            return true
        }
        let original = current.filter { !(assignment.addingReplicas[entry.partition] ?? []).contains($0) }
        if current == target && assignment.addingReplicas[entry.partition] == nil { return true }
        let statePath = ZNodes.partitionState(entry.topic, entry.partition)
        guard let stateNode = try await self.client.getIfExists(statePath),
              let state = try? PartitionStateZNode.decode(stateNode.data, topic: entry.topic, partition: entry.partition)
        else { return false }
        let union = target + original.filter { !target.contains($0) }
        if current != union {
            // Step 1: every old and new replica; the new ones start fetching.
            assignment.partitions[entry.partition] = union
            assignment.addingReplicas[entry.partition] = target.filter { !original.contains($0) }
            assignment.removingReplicas[entry.partition] = original.filter { !target.contains($0) }
            if assignment.addingReplicas[entry.partition]!.isEmpty { assignment.addingReplicas.removeValue(forKey: entry.partition) }
            if assignment.removingReplicas[entry.partition]!.isEmpty { assignment.removingReplicas.removeValue(forKey: entry.partition) }
            guard try await self.conditionalWrite([.setData(path: topicPath, data: assignment.zNodeData(), version: topicNode.stat.version)], term: term)
            else { return false }
            self.logger.info("reassigning \(entry.topic)-\(entry.partition) from \(original) to \(target)")
            return false
        }
        guard target.allSatisfy(state.isr.contains) else { return false }  // wait for the new replicas to catch up
        // Step 2: leader into the new set, ISR and assignment down to it.
        let leader = target.contains(state.leader) ? state.leader : target.first { live.contains($0) && state.isr.contains($0) }
        guard let leader else { return false }
        let next = PartitionStateZNode(
            leader: leader, leaderEpoch: state.leaderEpoch + 1, isr: state.isr.filter(target.contains), controllerEpoch: term.epoch)
        assignment.partitions[entry.partition] = target
        assignment.addingReplicas.removeValue(forKey: entry.partition)
        assignment.removingReplicas.removeValue(forKey: entry.partition)
        guard try await self.conditionalWrite([
            .setData(path: statePath, data: next.zNodeData(), version: stateNode.stat.version),
            .setData(path: topicPath, data: assignment.zNodeData(), version: topicNode.stat.version),
        ], term: term) else { return false }
        self.logger.notice("reassigned \(entry.topic)-\(entry.partition) to \(target): leader \(leader), isr \(next.isr)")
        return true
    }

    /// Runs compare-and-set `operations` fenced by the controller epoch.
    /// - Returns: false if a znode changed meanwhile (re-examined at the next change).
    /// - Throws: the `badVersion` error when the epoch itself moved (a successor controller).
    private func conditionalWrite(_ operations: [ZooKeeperOperation], term: ControllerElection.Term) async throws -> Bool {
        do {
            _ = try await self.client.multi([.check(path: ZNodes.controllerEpoch, version: term.epochZNodeVersion)] + operations)
            return true
        } catch let error as ZooKeeperError where error.code == .badVersion {
            if try await self.client.exists(ZNodes.controllerEpoch)?.version != term.epochZNodeVersion { throw error }
            return false
        }
    }

    /// Automatic rebalancing (`auto.leader.rebalance.enable`): when more than
    /// `leader.imbalance.per.broker.percentage` of a broker's preferred partitions are led by others, those whose
    /// preferred leader is alive and in sync move back to it.
    public func rebalanceLeaders(imbalancePercentage: Int) async throws {
        guard self.term != nil else { return }
        var preferredCount: [Int32: Int] = [:]
        var misplaced: [Int32: [TopicPartition]] = [:]
        for topic in try await self.client.children(ZNodes.brokerTopics) {
            guard let assignment = try await self.client.getIfExists(ZNodes.topic(topic)).flatMap({ try? TopicAssignment.decode($0.data, topic: topic) })
            else { continue }
            for (id, replicas) in assignment.partitions {
                guard let preferred = replicas.first,
                      let state = try await self.client.getIfExists(ZNodes.partitionState(topic, id))
                        .flatMap({ try? PartitionStateZNode.decode($0.data, topic: topic, partition: id) })
                else { continue }
                preferredCount[preferred, default: 0] += 1
                if state.leader != preferred { misplaced[preferred, default: []].append(TopicPartition(topic, id)) }
            }
        }
        for (broker, partitions) in misplaced.sorted(by: { $0.key < $1.key })
        where partitions.count * 100 > imbalancePercentage * preferredCount[broker, default: 1] {
            self.logger.info("broker \(broker) leads \(preferredCount[broker, default: 0] - partitions.count) of its \(preferredCount[broker, default: 0]) preferred partitions: rebalancing")
            _ = try await self.elect(.preferred, partitions: partitions)
        }
    }

    /// Kafka's controlled shutdown (the ControlledShutdown request): moves the leaderships of `broker` to other ISR
    /// members and takes it out of the ISRs, so clients switch before it stops rather than after its session
    /// expires. - Returns: the partitions it still leads (no other ISR member can take them).
    /// - Parameter brokerEpoch: the epoch the request carries (-1: unknown, before ControlledShutdown v2); one
    ///   older than the registration's czxid is refused, as Kafka refuses a zombie incarnation's request.
    public func controlledShutdown(of broker: Int32, brokerEpoch: Int64 = -1) async throws -> [TopicPartition] {
        guard let term = self.term else { throw ControllerError.notController }
        guard let registration = try await self.client.exists(ZNodes.broker(broker)) else { throw ControllerError.brokerNotAvailable }
        if brokerEpoch != -1 && brokerEpoch < registration.czxid { throw ControllerError.staleBrokerEpoch }
        self.logger.notice("controlled shutdown of broker \(broker)")
        let began = ContinuousClock.now
        let live = Set(try await self.client.children(ZNodes.brokerIds).compactMap(Int32.init)).subtracting([broker])
        let partitions = try await self.partitionSnapshots(try await self.client.children(ZNodes.brokerTopics), including: { $0.contains(broker) })
            .compactMap { $0.withState }
        var remaining: [TopicPartition] = []
        var moves: [((topic: String, partition: Int32, replicas: [Int32], state: PartitionStateZNode, stateVersion: Int32), PartitionStateZNode)] = []
        for partition in partitions {
            switch LeaderElection.onControlledShutdown(
                of: broker, assignment: partition.replicas, state: partition.state, live: live, controllerEpoch: term.epoch)
            {
            case .unchanged: continue
            case .stuck: remaining.append(TopicPartition(partition.topic, partition.partition))
            case .moved(let next): moves.append((partition, next))
            }
        }
        // Leaderships first: clients wait for them, while an ISR without this broker only spares acks=all a wait.
        moves.sort { ($0.0.state.leader == broker ? 0 : 1) < ($1.0.state.leader == broker ? 0 : 1) }
        let written = try await self.writeStates(moves, term: term)
        let took = (ContinuousClock.now - began).components
        let leaderships = zip(moves, written).filter { $0.1 && $0.0.0.state.leader == broker }.count
        self.logger.notice(
            "controlled shutdown of broker \(broker): \(leaderships) leaderships moved, \(written.filter { $0 }.count - leaderships) ISRs left, \(remaining.count) partitions stuck, in \(took.seconds * 1_000 + took.attoseconds / 1_000_000_000_000_000) ms")
        for ((partition, next), done) in zip(moves, written) {
            if done {
                self.logger.info("partition \(partition.topic)-\(partition.partition): leader \(next.leader), isr \(next.isr) (controlled shutdown of \(broker))")
            } else {
                remaining.append(TopicPartition(partition.topic, partition.partition))  // changed meanwhile: the broker asks again
            }
        }
        return remaining.sorted()
    }

    /// `unclean.leader.election.enable` of a topic: its override in `/config/topics/<t>`, else the broker's.
    private func uncleanLeaderElectionEnabled(_ topic: String) async throws -> Bool {
        guard let node = try await self.client.getIfExists(ZNodes.topicConfig(topic)), !node.data.isEmpty,
              let value = (try? EntityConfigZNode.decode(node.data, path: ZNodes.topicConfig(topic)))?.config["unclean.leader.election.enable"]
        else { return self.uncleanLeaderElectionEnable() }
        return value.lowercased() == "true"
    }

    /// Writes the state znode of every assigned partition that has none and a live replica.
    func createMissingPartitionStates(_ term: ControllerElection.Term, topics: [String], live: Set<Int32>) async throws {
        try await self.createMissingPartitionStates(term, try await self.partitionSnapshots(topics), live: live)
    }

    private func createMissingPartitionStates(_ term: ControllerElection.Term, _ snapshots: [PartitionSnapshot], live: Set<Int32>) async throws {
        let creations = snapshots.filter { $0.stateVersion == nil }.compactMap { partition -> (PartitionSnapshot, PartitionStateZNode)? in
            let isr = partition.replicas.filter(live.contains)
            guard let leader = isr.first else { return nil }  // no live replica: wait for one
            return (partition, PartitionStateZNode(leader: leader, leaderEpoch: 0, isr: isr, controllerEpoch: term.epoch))
        }
        // Each topic's first partition on its own, so that its `partitions` znode exists before the others are created
        // together (pipelined) and do not race to create it.
        let firsts = Dictionary(creations.map { ($0.0.topic, $0) }, uniquingKeysWith: { first, _ in first })
        for (partition, state) in firsts.values { try await self.createState(partition, state, term: term) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (partition, state) in creations where firsts[partition.topic]?.0.partition != partition.partition {
                group.addTask { try await self.createState(partition, state, term: term) }
            }
            try await group.waitForAll()
        }
    }

    private func createState(_ partition: PartitionSnapshot, _ state: PartitionStateZNode, term: ControllerElection.Term) async throws {
        try await self.createFenced(ZNodes.partitionState(partition.topic, partition.partition), state.zNodeData(), term: term)
        self.logger.info("partition \(partition.topic)-\(partition.partition): leader \(state.leader), isr \(state.isr) (new)")
    }

    /// Deletes `paths`, in order, in one multi that also checks the controller epoch's znode version.
    private func deleteFenced(_ paths: [String], term: ControllerElection.Term) async throws {
        let operations: [ZooKeeperOperation] = [.check(path: ZNodes.controllerEpoch, version: term.epochZNodeVersion)]
            + paths.map { .delete(path: $0, version: -1) }
        do {
            _ = try await self.client.multi(operations)
        } catch let error as ZooKeeperError where error.code == .noNode {
            // Deleted meanwhile (a retry after a lost reply): the next change re-examines what is left.
        }
    }

    /// Creates `path` (and missing parents) in one multi that also checks the controller epoch's znode version.
    private func createFenced(_ path: String, _ data: [UInt8], term: ControllerElection.Term) async throws {
        var operations: [ZooKeeperOperation] = [.check(path: ZNodes.controllerEpoch, version: term.epochZNodeVersion)]
        for ancestor in ZNodePath.ancestors(of: path) where try await self.client.exists(ancestor) == nil {
            operations.append(.create(path: ancestor, data: [], mode: .persistent))
        }
        operations.append(.create(path: path, data: data, mode: .persistent))
        do {
            _ = try await self.client.multi(operations)
        } catch let error as ZooKeeperError where error.code == .nodeExists {
            // Written meanwhile (by us on a retry, or a parent by a concurrent write): fine.
        }
    }
}

import Coordination
import KafkaModel
import Logging
import ZooKeeper

/// The cluster controller of a broker: competes for the controllership and, while it holds it, makes the
/// leadership decisions. For now that is the first one Kafka's controller makes: a new topic's partitions get
/// their state znodes, leader = the first live replica of the assignment, ISR = the live replicas in assignment
/// order, leader epoch 0. A partition with no live replica waits for a broker to come back. Failover, ISR changes
/// and deletion are the cluster issue.
///
/// All decisions are made by one task (`run()`), like Kafka's single controller event thread.
public actor Controller {
    private let election: ControllerElection
    private let client: ZooKeeperClient
    private let logger: Logger
    public private(set) var term: ControllerElection.Term?

    public init(brokerId: Int32, client: ZooKeeperClient, logger: Logger = Logger(label: "ferry.controller")) {
        self.election = ControllerElection(brokerId: brokerId, client: client)
        self.client = client
        var logger = logger
        logger[metadataKey: "broker"] = "\(brokerId)"
        self.logger = logger
    }

    public var isActive: Bool { self.term != nil }

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

    /// Re-examines every topic whenever the topic list or the live brokers change.
    private func reconcileOnChanges(_ term: ControllerElection.Term) async {
        let changes = AsyncStream<Void> { continuation in
            let topics = Task { do { for try await _ in self.client.follow(children: ZNodes.brokerTopics) { continuation.yield() } } catch {} }
            let brokers = Task { do { for try await _ in self.client.follow(children: ZNodes.brokerIds) { continuation.yield() } } catch {} }
            continuation.onTermination = { _ in
                topics.cancel()
                brokers.cancel()
            }
        }
        for await _ in changes {
            do {
                try await self.createMissingPartitionStates(term)
            } catch let error as ZooKeeperError where error.code == .badVersion {
                self.logger.warning("a newer controller has taken over (write fenced by /controller_epoch)")
                return
            } catch {
                self.logger.warning("could not complete partition states: \(error)")
            }
        }
    }

    /// Writes the state znode of every assigned partition that has none and a live replica.
    func createMissingPartitionStates(_ term: ControllerElection.Term) async throws {
        let live = Set(try await self.client.children(ZNodes.brokerIds).compactMap(Int32.init))
        for topic in try await self.client.children(ZNodes.brokerTopics) {
            guard let node = try? await self.client.get(ZNodes.topic(topic)),
                  let assignment = try? TopicAssignment.decode(node.data, topic: topic)
            else { continue }
            for (partition, replicas) in assignment.partitions.sorted(by: { $0.key < $1.key }) {
                guard try await self.client.exists(ZNodes.partitionState(topic, partition)) == nil else { continue }
                let isr = replicas.filter(live.contains)
                guard let leader = isr.first else { continue }  // no live replica: wait for one
                let state = PartitionStateZNode(leader: leader, leaderEpoch: 0, isr: isr, controllerEpoch: term.epoch)
                try await self.createFenced(ZNodes.partitionState(topic, partition), state.zNodeData(), term: term)
                self.logger.info("partition \(topic)-\(partition): leader \(leader), isr \(isr) (new)")
            }
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

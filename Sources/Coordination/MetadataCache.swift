import KafkaModel
import Logging
import ZooKeeper

/// A topic as ZooKeeper describes it: its assignment and the state of each partition that has one.
public struct TopicMetadata: Hashable, Sendable {
    public var name: String
    public var assignment: TopicAssignment
    /// Partition states (leader, ISR); a partition without one has no leader yet.
    public var states: [Int32: PartitionStateZNode]
    /// The znode version of each partition state (Kafka's partition epoch), for compare-and-set ISR updates.
    public var stateVersions: [Int32: Int32] = [:]
    /// The version of `/brokers/topics/<t>` the assignment was read at, so a leader's ISR expansion can be fenced
    /// against an assignment changed meanwhile (a finished reassignment drops replicas).
    public var assignmentVersion: Int32 = -1
    /// The topic's config overrides (`/config/topics/<t>`).
    public var config: [String: String] = [:]
}

/// A change the broker acts on locally.
public enum TopicEvent: Hashable, Sendable {
    /// The topic went: deleted from `/brokers/topics`, or replaced by a topic of the same name with a new topic id.
    case deleted(String)
    /// The topic's config overrides are now these (also sent once when the topic is first seen).
    case configured(String, [String: String])
}

/// What every broker knows of the cluster, kept current from ZooKeeper by watches (`run()`): live brokers
/// (`/brokers/ids`), the controller (`/controller`), topics (`/brokers/topics`) and partition states.
public actor MetadataCache {
    public private(set) var brokers: [Int32: BrokerRegistration] = [:]
    public private(set) var controllerId: Int32?

    /// The controller as clients may be told of it: only once its registration is among the live brokers too.
    /// `/controller` and `/brokers/ids` are followed separately, so one can be seen before the other; a Metadata
    /// answer naming a controller it does not list makes kafka-python's admin fail (UnknownBrokerIdError) and
    /// librdkafka's wait, while -1 makes both ask again.
    public var advertisedControllerId: Int32? {
        guard let id = self.controllerId, self.brokers[id] != nil else { return nil }
        return id
    }
    public private(set) var topics: [String: TopicMetadata] = [:]
    private let client: ZooKeeperClient
    private let logger: Logger
    private var topicFollowers: [String: Task<Void, Never>] = [:]
    /// Config overrides by topic, also for topics whose assignment has not been read yet.
    private var configOverrides: [String: [String: String]] = [:]
    /// Initial reads not done yet: the three top-level follows, then each topic's assignment and partition states.
    private var pendingInitialReads = 3
    private var changeWaiters: [Int: WakeUp] = [:]
    private var nextWaiter = 0
    private let eventsContinuation: AsyncStream<TopicEvent>.Continuation
    /// Deletions and config changes, in the order seen, for the broker to apply to its logs (one consumer).
    public nonisolated let topicEvents: AsyncStream<TopicEvent>

    /// Counts changes, so a watcher can wait for the next one (`waitForChange(after:)`).
    public private(set) var generation = 0

    /// Wakes everyone waiting for a change.
    private func changed() {
        self.generation += 1
        for waiter in self.changeWaiters.values { waiter.fire() }
    }

    /// Waits until the cache changes after `generation` (or `timeout` passes). - Returns: the generation now.
    public func waitForChange(after generation: Int, timeout: Duration) async -> Int {
        _ = await self.waitUntil(timeout: timeout) { self.generation > generation }
        return self.generation
    }

    /// Marks one initial read done (the first value of a follow).
    private func initialReadDone() {
        self.pendingInitialReads -= 1
        self.changed()
    }

    /// Waits until `condition` holds, re-checking after every change to the cache, or until `timeout`.
    /// - Returns: whether it held in time.
    private func waitUntil(timeout: Duration, _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline, !Task.isCancelled else { return false }
            let id = self.nextWaiter
            self.nextWaiter += 1
            let wakeUp = WakeUp()
            self.changeWaiters[id] = wakeUp
            await wakeUp.wait(until: deadline)
            self.changeWaiters.removeValue(forKey: id)
        }
        return true
    }

    /// Waits until the cache holds what ZooKeeper held when it started (every follow has read once), so a broker
    /// never answers from an empty cache after a restart.
    public func waitUntilLoaded(timeout: Duration) async -> Bool {
        await self.waitUntil(timeout: timeout) { self.pendingInitialReads <= 0 }
    }

    /// Waits until broker `id` is among the live brokers (a broker waits to see its own registration).
    public func waitForBroker(_ id: Int32, timeout: Duration) async -> Bool {
        await self.waitUntil(timeout: timeout) { self.brokers[id] != nil }
    }

    /// Waits until every partition of `topics` has a live leader, and each topic listed in `partitionCounts` has at
    /// least that many partitions (so a just-grown topic is not judged by its old assignment).
    public func waitForLeaders(of topics: [String], partitionCounts: [String: Int] = [:], timeout: Duration) async -> Bool {
        await self.waitUntil(timeout: timeout) {
            topics.allSatisfy { topic in
                self.hasLeaders(topic) && (self.topics[topic]?.assignment.partitions.count ?? 0) >= partitionCounts[topic, default: 0]
            }
        }
    }

    /// Waits until none of `topics` is known any more. - Returns: those gone by then.
    public func waitForTopicsGone(_ topics: [String], timeout: Duration) async -> Set<String> {
        _ = await self.waitUntil(timeout: timeout) { topics.allSatisfy { self.topics[$0] == nil } }
        return Set(topics.filter { self.topics[$0] == nil })
    }

    private func hasLeaders(_ topic: String) -> Bool {
        guard let metadata = self.topics[topic], !metadata.assignment.partitions.isEmpty else { return false }
        return metadata.assignment.partitions.keys.allSatisfy { partition in
            metadata.states[partition].map { $0.leader >= 0 && self.brokers[$0.leader] != nil } ?? false
        }
    }

    public init(client: ZooKeeperClient, logger: Logger = Logger(label: "ferry.metadata")) {
        self.client = client
        self.logger = logger
        (self.topicEvents, self.eventsContinuation) = AsyncStream.makeStream()
    }

    private func topicDeleted(_ name: String) {
        self.logger.info("topic \(name) was deleted")
        self.eventsContinuation.yield(.deleted(name))
    }

    /// Follows ZooKeeper until cancelled.
    public func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.followBrokers() }
            group.addTask { await self.followController() }
            group.addTask { await self.followTopics() }
        }
        for task in self.topicFollowers.values { task.cancel() }
    }

    private func followBrokers() async {
        var first = true
        do {
            for try await ids in self.client.follow(children: ZNodes.brokerIds) {
                var brokers: [Int32: BrokerRegistration] = [:]
                for name in ids {
                    guard let id = Int32(name), let node = try? await self.client.get(ZNodes.broker(id)),
                          let registration = try? BrokerRegistration.decode(node.data, id: id)
                    else { continue }
                    brokers[id] = registration
                }
                self.setBrokers(brokers)
                if first { first = false; self.initialReadDone() }
            }
        } catch {
            self.logger.error("stopped following \(ZNodes.brokerIds): \(error)")
        }
    }

    private func setBrokers(_ brokers: [Int32: BrokerRegistration]) {
        let before = Set(self.brokers.keys)
        self.brokers = brokers
        self.changed()
        let after = Set(brokers.keys)
        if before != after { self.logger.info("live brokers: \(after.sorted())") }
    }

    private func followController() async {
        var first = true
        do {
            for try await node in self.client.follow(node: ZNodes.controller) {
                let id = node.flatMap { try? ControllerZNode.decode($0.data).brokerid }
                if id != self.controllerId { self.logger.info("controller is now \(id.map(String.init) ?? "none")") }
                self.controllerId = id
                if first { first = false; self.initialReadDone() }
            }
        } catch {
            self.logger.error("stopped following \(ZNodes.controller): \(error)")
        }
    }

    private func followTopics() async {
        var first = true
        do {
            for try await names in self.client.follow(children: ZNodes.brokerTopics) {
                let current = Set(names)
                for gone in Set(self.topicFollowers.keys).subtracting(current) {
                    self.topicFollowers.removeValue(forKey: gone)?.cancel()
                    self.topics.removeValue(forKey: gone)
                    self.configOverrides.removeValue(forKey: gone)
                    self.changed()
                    self.topicDeleted(gone)
                }
                let initial = first
                for added in current.subtracting(self.topicFollowers.keys) {
                    if initial { self.pendingInitialReads += 1 }
                    self.topicFollowers[added] = Task { await self.followTopic(added, initial: initial) }
                }
                if first { first = false; self.initialReadDone() }
            }
        } catch {
            self.logger.error("stopped following \(ZNodes.brokerTopics): \(error)")
        }
    }

    /// Follows one topic's assignment and, for each of its partitions, the partition state.
    /// `initial`: the topic existed when the cache started, so its first reads count towards `waitUntilLoaded`.
    private func followTopic(_ name: String, initial: Bool) async {
        var stateFollowers: [Int32: Task<Void, Never>] = [:]
        var first = initial
        // Config overrides are followed through the znode itself rather than `/config/changes`, which sees both
        // writers that notify (Kafka's tools, AlterConfigs) and writers that do not (topic creation).
        if initial { self.pendingInitialReads += 1 }
        let configFollower = Task { await self.followConfig(name, initial: initial) }
        defer {
            configFollower.cancel()
            for task in stateFollowers.values { task.cancel() }
        }
        do {
            for try await node in self.client.follow(node: ZNodes.topic(name)) {
                guard let node, let assignment = try? TopicAssignment.decode(node.data, topic: name) else {
                    if first { first = false; self.initialReadDone() }
                    continue
                }
                self.setAssignment(name, assignment, version: node.stat.version)
                for partition in assignment.partitions.keys where stateFollowers[partition] == nil {
                    if first { self.pendingInitialReads += 1 }
                    let initialState = first
                    stateFollowers[partition] = Task { await self.followState(name, partition, initial: initialState) }
                }
                if first { first = false; self.initialReadDone() }
            }
        } catch {
            if !(error is CancellationError) { self.logger.error("stopped following topic \(name): \(error)") }
        }
    }

    private func setAssignment(_ name: String, _ assignment: TopicAssignment, version: Int32) {
        if let previous = self.topics[name]?.assignment.topicId, let id = assignment.topicId, previous != id {
            // Deleted and created again between two reads of /brokers/topics: the old replicas must go.
            self.topics[name]?.states = [:]
            self.topicDeleted(name)
        }
        self.topics[name, default: TopicMetadata(name: name, assignment: assignment, states: [:], config: self.configOverrides[name] ?? [:])]
            .assignment = assignment
        self.topics[name]?.assignmentVersion = version
        self.changed()
    }

    private func followConfig(_ topic: String, initial: Bool) async {
        var first = initial
        do {
            for try await node in self.client.follow(node: ZNodes.topicConfig(topic)) {
                let config = node.flatMap { try? EntityConfigZNode.decode($0.data, path: ZNodes.topicConfig(topic)).config } ?? [:]
                self.topics[topic]?.config = config
                self.configOverrides[topic] = config
                self.eventsContinuation.yield(.configured(topic, config))
                self.changed()
                if first { first = false; self.initialReadDone() }
            }
        } catch {
            if !(error is CancellationError) { self.logger.error("stopped following \(topic) config: \(error)") }
        }
    }

    private func followState(_ topic: String, _ partition: Int32, initial: Bool) async {
        var first = initial
        do {
            for try await node in self.client.follow(node: ZNodes.partitionState(topic, partition)) {
                let state = node.flatMap { try? PartitionStateZNode.decode($0.data, topic: topic, partition: partition) }
                self.topics[topic]?.states[partition] = state
                self.topics[topic]?.stateVersions[partition] = node?.stat.version
                self.changed()
                if first { first = false; self.initialReadDone() }
            }
        } catch {
            if !(error is CancellationError) { self.logger.error("stopped following \(topic)-\(partition) state: \(error)") }
        }
    }
}

import Coordination
import GroupCoordinator
import KafkaModel
import Logging
import ZooKeeper

/// Where consumer groups are coordinated, as in Kafka's ZooKeeper mode: the group's coordinator is the leader of
/// partition `abs(hash(group)) % N` of the internal `__consumer_offsets` topic, so the controller's leader elections
/// (and their failover) decide coordinators, one per group at a time. The topic is created on the first
/// FindCoordinator, as Kafka does. It holds no records here: committed offsets live in ZooKeeper
/// (`ConsumerOffsetStore`), written with a check on the partition's state znode, which fences a deposed coordinator.
struct GroupCoordination: Sendable {
    static let offsetsTopic = "__consumer_offsets"

    let brokerId: Int32
    let cache: MetadataCache
    let admin: TopicAdmin
    let client: ZooKeeperClient
    let coordinator: GroupCoordinator
    let offsets: ConsumerOffsetStore
    let config: BrokerConfig
    let logger: Logger

    struct Node: Sendable {
        var id: Int32
        var host: String
        var port: Int32
    }

    /// The coordinator of `group` (FindCoordinator): COORDINATOR_NOT_AVAILABLE while `__consumer_offsets` is being
    /// created or its partition has no live leader.
    func locate(_ group: String) async -> Result<Node, CoordinatorUnavailable> {
        guard let topic = await self.cache.topics[Self.offsetsTopic] else {
            await self.createOffsetsTopic()
            return .failure(CoordinatorUnavailable())
        }
        let partition = GroupPartitioner.partition(of: group, partitionCount: Int32(topic.assignment.partitions.count))
        let brokers = await self.cache.brokers
        guard let leader = topic.states[partition]?.leader, leader >= 0, let registration = brokers[leader],
              let endpoint = registration.clientEndpoint
        else { return .failure(CoordinatorUnavailable()) }
        return .success(Node(id: leader, host: endpoint.host, port: endpoint.port))
    }

    struct CoordinatorUnavailable: Error {}

    /// The fence for `group`'s commits if this broker coordinates it now, else `nil` (NOT_COORDINATOR).
    func fence(for group: String) async -> ConsumerOffsetStore.Fence? {
        guard let topic = await self.cache.topics[Self.offsetsTopic] else { return nil }
        let partition = GroupPartitioner.partition(of: group, partitionCount: Int32(topic.assignment.partitions.count))
        guard topic.states[partition]?.leader == self.brokerId, let version = topic.stateVersions[partition] else { return nil }
        return .init(statePath: ZNodes.partitionState(Self.offsetsTopic, partition), version: version)
    }

    /// Reads the coordinator partition's state again after a fenced commit failed: a new fence if this broker still
    /// leads it (only the ISR changed), else `nil`.
    func refreshedFence(_ fence: ConsumerOffsetStore.Fence) async -> ConsumerOffsetStore.Fence? {
        guard let node = try? await self.client.getIfExists(fence.statePath),
              let state = try? PartitionStateZNode.decode(node.data, topic: Self.offsetsTopic, partition: 0),
              state.leader == self.brokerId
        else { return nil }
        return .init(statePath: fence.statePath, version: node.stat.version)
    }

    /// Whether this broker coordinates `group`, by the metadata at hand.
    func coordinates(_ group: String, topics: [String: TopicMetadata]) -> Bool {
        guard let topic = topics[Self.offsetsTopic] else { return false }
        let partition = GroupPartitioner.partition(of: group, partitionCount: Int32(topic.assignment.partitions.count))
        return topic.states[partition]?.leader == self.brokerId
    }

    /// Unloads the groups whose coordinator partition another broker leads now (called on every metadata change).
    func metadataChanged() async {
        let topics = await self.cache.topics
        await self.coordinator.retainGroups { self.coordinates($0, topics: topics) }
    }

    private func createOffsetsTopic() async {
        // Read from ZooKeeper, not the cache: a cache that has not yet heard of every broker of a starting cluster
        // would give the offsets topic a replication factor it keeps for ever.
        let brokers: [ReplicaAssignment.Broker]
        do {
            brokers = try await self.admin.liveBrokers()
        } catch {
            self.logger.warning("could not create \(Self.offsetsTopic): \(error)")
            return
        }
        guard !brokers.isEmpty else { return }
        let replicationFactor = min(Int(self.config.offsetsTopicReplicationFactor), brokers.count)
        if replicationFactor < Int(self.config.offsetsTopicReplicationFactor) {
            self.logger.warning("creating \(Self.offsetsTopic) with replication factor \(replicationFactor): offsets.topic.replication.factor is \(self.config.offsetsTopicReplicationFactor) but only \(brokers.count) brokers are live")
        }
        do {
            try await self.admin.create(
                name: Self.offsetsTopic, partitions: Int(self.config.offsetsTopicNumPartitions), replicationFactor: replicationFactor,
                brokers: brokers,
                config: ["cleanup.policy": "compact", "compression.type": "producer", "segment.bytes": "104857600"])
            self.logger.notice("created \(Self.offsetsTopic) with \(self.config.offsetsTopicNumPartitions) partitions and replication factor \(replicationFactor) for the group coordinators")
        } catch let failure as TopicAdmin.Failure where failure.code == .topicAlreadyExists {
        } catch {
            self.logger.warning("could not create \(Self.offsetsTopic): \(error)")
        }
    }

    /// Deletes committed offsets older than offsets.retention.minutes of the groups coordinated here that have no
    /// members (broker-coordinated or ZooKeeper-balanced), as Kafka expires the offsets of empty groups.
    func expireOffsets() async {
        let cutoff = wallClockMillis() - self.config.offsetsRetentionMinutes * 60_000
        let topics = await self.cache.topics
        do {
            for group in try await self.offsets.groups() where self.coordinates(group, topics: topics) {
                if let described = await self.coordinator.describe(group), !described.members.isEmpty { continue }
                if try await self.offsets.hasZooKeeperMembers(group: group) { continue }
                let expired = try await self.offsets.expireOffsets(group: group, committedBefore: cutoff)
                if !expired.isEmpty {
                    self.logger.info("expired the committed offsets of group \(group) for \(expired.map(\.description).joined(separator: ", ")) (offsets.retention.minutes=\(self.config.offsetsRetentionMinutes))")
                }
            }
        } catch {
            self.logger.warning("offset expiration failed: \(error)")
        }
    }
}

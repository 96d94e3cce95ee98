import Coordination
import Foundation
import KafkaClient
import KafkaModel
import ZooKeeper

/// The `--zookeeper` side of kafka-console-consumer: the old consumer's workflow, with brokers found under
/// `/brokers/ids`, the partitions balanced through `/consumers/<group>` (`ZooKeeperGroupMember`, which shares a group
/// with pykafka's BalancedConsumer) and offsets kept in `/consumers/<group>/offsets`. The Kafka consumer only fetches
/// the partitions this member owns.
struct ZooKeeperConsoleConsumer {
    let zooKeeper: ZooKeeperClient
    let member: ZooKeeperGroupMember
    let reset: KafkaConsumer.OffsetReset
    let autoCommit: Bool
    let autoCommitInterval: Duration
    /// A group the user did not name is deleted at exit, as Kafka's old console consumer did.
    let removeGroupAtExit: Bool

    /// The old console consumer's property names and values, in the new consumer's terms.
    static func translate(_ properties: [String: String]) -> [String: String] {
        var result = properties
        if let enable = properties["auto.commit.enable"] { result["enable.auto.commit"] = enable }
        switch properties["auto.offset.reset"] {
        case "smallest": result["auto.offset.reset"] = "earliest"
        case "largest": result["auto.offset.reset"] = "latest"
        default: break
        }
        return result
    }

    /// Connects to the ensemble, checks the group as Kafka's old console consumer did, and registers the member.
    static func start(
        connect: String, group: String, groupNamed: Bool, topics: [String], fromBeginning: Bool, deleteOffsets: Bool,
        configuration: KafkaConsumer.Configuration, properties: [String: String]
    ) async throws -> (ZooKeeperConsoleConsumer, KafkaCluster) {
        let sessionTimeout = Int(properties["zookeeper.session.timeout.ms"] ?? "") ?? 6_000
        let zooKeeper = try await ZooKeeperClient.connect(connect, sessionTimeout: .milliseconds(sessionTimeout))
        do {
            let offsetsPath = "/consumers/\(group)/offsets"
            if deleteOffsets {
                try await zooKeeper.deleteRecursively("/consumers/\(group)")
            } else if fromBeginning, groupNamed, try await zooKeeper.exists(offsetsPath) != nil {
                throw ToolFailure("Found previous offset information for this group \(group). Please use --delete-consumer-offsets to delete previous offsets metadata")
            }
            let cluster = KafkaCluster(.init(bootstrap: try await ZooKeeperBootstrap.brokers(zooKeeper), clientId: group))
            var memberConfiguration = ZooKeeperGroupMember.Configuration()
            if let backoff = properties["rebalance.backoff.ms"].flatMap(Int.init) { memberConfiguration.rebalanceBackoff = .milliseconds(backoff) }
            if let retries = properties["rebalance.max.retries"].flatMap(Int.init) { memberConfiguration.rebalanceMaxRetries = retries }
            let member = ZooKeeperGroupMember(zooKeeper: zooKeeper, groupId: group, topics: topics, configuration: memberConfiguration)
            try await member.start()
            let interval = Int(properties["auto.commit.interval.ms"] ?? "") ?? 60_000
            return (ZooKeeperConsoleConsumer(
                zooKeeper: zooKeeper, member: member, reset: configuration.autoOffsetReset, autoCommit: configuration.enableAutoCommit,
                autoCommitInterval: .milliseconds(interval), removeGroupAtExit: !groupNamed), cluster)
        } catch {
            await zooKeeper.close()
            throw error
        }
    }

    /// Before each poll: on a change in the group, commits what was consumed (with auto-commit), takes the member's
    /// new share and starts the partitions it gained at their committed offsets (else per `auto.offset.reset`).
    func maintain(_ consumer: KafkaConsumer, cluster: KafkaCluster) async throws {
        guard await self.member.needsRebalance else { return }
        if self.autoCommit { try await self.commit(consumer) }
        let metadata = try await cluster.refreshMetadata(topics: self.member.topics)
        var partitions: [String: [BalancedConsumerGroup.PartitionInfo]] = [:]
        for topic in self.member.topics {
            partitions[topic] = metadata.topics[topic]?.partitions.map { .init(id: $0.id, leader: $0.leader) } ?? []
        }
        let before = Set(await consumer.assignment)
        let owned = try await self.member.rebalance(partitions: partitions)
        await consumer.assign(owned)
        let gained = owned.filter { !before.contains($0) }
        guard !gained.isEmpty else { return }
        let committed = try await self.member.committed(gained)
        for partition in gained {
            if let offset = committed[partition] { await consumer.seek(partition, offset: offset) }
        }
        let missing = gained.filter { committed[$0] == nil }
        if !missing.isEmpty { try await consumer.seek(missing, to: self.reset) }
    }

    /// Writes the consumed positions of the owned partitions to `/consumers/<group>/offsets`.
    func commit(_ consumer: KafkaConsumer) async throws {
        let positions = await consumer.consumedPositions()
        if !positions.isEmpty { try await self.member.commit(positions) }
    }

    /// Commits (with auto-commit), releases the partitions, deregisters and closes the session.
    func close(_ consumer: KafkaConsumer) async {
        if self.autoCommit { try? await self.commit(consumer) }
        await self.member.leave()
        if self.removeGroupAtExit { try? await self.zooKeeper.deleteRecursively("/consumers/\(self.member.groupId)") }
        await self.zooKeeper.close()
    }
}

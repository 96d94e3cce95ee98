import KafkaModel
import ZooKeeper

/// The partition leader's own writes to its partition state (Kafka's ZooKeeper mode before AlterPartition): ISR
/// changes, as a compare-and-set on the state znode's version (the partition epoch) so a write based on a stale
/// state (the controller moved leadership meanwhile) fails, with an `/isr_change_notification` entry for the
/// controller in the same transaction.
public struct PartitionStateWriter: Sendable {
    let client: ZooKeeperClient

    public init(client: ZooKeeperClient) {
        self.client = client
    }

    /// Replaces the ISR of a partition whose state (at znode version `version`) is `state`.
    /// - Parameter assignmentVersion: when set, the write also requires `/brokers/topics/<t>` at this version: an
    ///   expansion must not add a replica that a reassignment finished meanwhile has dropped from the assignment.
    /// - Returns: false if the state (or the assignment) changed since (nothing written).
    public func updateIsr(
        _ partition: TopicPartition, from state: PartitionStateZNode, version: Int32, to isr: [Int32], assignmentVersion: Int32? = nil
    ) async throws -> Bool {
        var next = state
        next.isr = isr
        // One multi, one round trip: a follower's fetch waits for the expansion it triggers, and a restarted broker
        // rejoins the ISRs of all its partitions this way, one after another.
        var operations: [ZooKeeperOperation] = assignmentVersion.map { [.check(path: ZNodes.topic(partition.topic), version: $0)] } ?? []
        operations.append(.setData(path: ZNodes.partitionState(partition.topic, partition.partition), data: next.zNodeData(), version: version))
        operations.append(.create(
            path: ZNodes.isrChangeNotification + "/isr_change_", data: PartitionListZNode(partitions: [partition]).zNodeData(),
            mode: .persistentSequential))
        for attempt in 0..<2 {
            do {
                _ = try await self.client.multi(operations)
                return true
            } catch let error as ZooKeeperError where error.code == .badVersion || error.code == .noNode {
                // NONODE is the state (its topic deleted) or, on a fresh cluster, the notifications' parent.
                guard error.code == .noNode, attempt == 0, try await self.client.exists(ZNodes.isrChangeNotification) == nil else { return false }
                try await self.client.createRecursively(ZNodes.isrChangeNotification)
            }
        }
        return false
    }
}

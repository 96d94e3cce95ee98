import KafkaModel
import ZooKeeper

/// The partition leader's own writes to its partition state (Kafka's ZooKeeper mode before AlterPartition): ISR
/// changes, as a compare-and-set on the state znode's version (the partition epoch) so a write based on a stale
/// state (the controller moved leadership meanwhile) fails, followed by an `/isr_change_notification` entry for the
/// controller.
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
        let statePath = ZNodes.partitionState(partition.topic, partition.partition)
        do {
            if let assignmentVersion {
                _ = try await self.client.multi([
                    .check(path: ZNodes.topic(partition.topic), version: assignmentVersion),
                    .setData(path: statePath, data: next.zNodeData(), version: version),
                ])
            } else {
                try await self.client.set(statePath, data: next.zNodeData(), version: version)
            }
        } catch let error as ZooKeeperError where error.code == .badVersion || error.code == .noNode {
            return false
        }
        let notification = PartitionListZNode(partitions: [partition])
        try await self.client.createRecursively(ZNodes.isrChangeNotification)
        try await self.client.create(
            ZNodes.isrChangeNotification + "/isr_change_", data: notification.zNodeData(), mode: .persistentSequential)
        return true
    }
}

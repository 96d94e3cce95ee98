import Coordination
import FerryTestKit
import KafkaModel
import Testing
import ZooKeeper

@Suite(.serialized, .enabled(if: TestEnsemble.isAvailable, "needs ZK_CONNECT; scripts/test.sh starts an ensemble"))
struct PartitionStateWriterTests {
    /// A leader's ISR change is a compare-and-set of the state and an `/isr_change_notification` entry, written
    /// together or not at all; the notifications' parent is created when a fresh cluster has none.
    @Test func anIsrChangeAndItsNotificationAreOneWrite() async throws {
        try await EnsembleAccess.shared.shared {
            let root = try await TestEnsemble.client()
            let base = try await scratchPath(root)
            let client = try await ZooKeeperClient.connect(try #require(TestEnsemble.connect) + base, sessionTimeout: .seconds(8))
            let partition = TopicPartition("t", 0)
            let state = PartitionStateZNode(leader: 1, leaderEpoch: 4, isr: [1, 2], controllerEpoch: 1)
            try await client.createRecursively(ZNodes.brokerTopics)
            try await client.create(ZNodes.topic(partition.topic), data: TopicAssignment(partitions: [0: [1, 2, 3]]).zNodeData())
            try await client.createRecursively(ZNodes.partition(partition.topic, 0))
            try await client.create(ZNodes.partitionState(partition.topic, 0), data: state.zNodeData())
            let writer = PartitionStateWriter(client: client)

            #expect(try await client.exists(ZNodes.isrChangeNotification) == nil)
            #expect(try await writer.updateIsr(partition, from: state, version: 0, to: [1, 2, 3], assignmentVersion: 0))
            let written = try await client.get(ZNodes.partitionState(partition.topic, 0))
            let decoded = try PartitionStateZNode.decode(written.data, topic: partition.topic, partition: 0)
            #expect(decoded.isr == [1, 2, 3] && decoded.leader == 1 && decoded.leaderEpoch == 4)
            let notifications = try await client.children(ZNodes.isrChangeNotification)
            #expect(notifications.count == 1 && notifications[0].hasPrefix("isr_change_"))
            let entry = try await client.get(ZNodes.isrChangeNotification + "/" + notifications[0])
            #expect(try PartitionListZNode.decode(entry.data, path: "").topicPartitions == [partition])

            // A stale state version, or an assignment rewritten meanwhile: nothing at all is written.
            #expect(try await !writer.updateIsr(partition, from: state, version: 0, to: [1]))
            #expect(try await !writer.updateIsr(partition, from: decoded, version: 1, to: [1, 2, 3, 4], assignmentVersion: 7))
            #expect(try await client.get(ZNodes.partitionState(partition.topic, 0)).stat.version == 1)
            #expect(try await client.children(ZNodes.isrChangeNotification).count == 1)
            // A deleted partition: false, not an error.
            #expect(try await !writer.updateIsr(TopicPartition("gone", 0), from: state, version: 0, to: [1]))

            #expect(try await writer.updateIsr(partition, from: decoded, version: 1, to: [1]))
            #expect(try await client.children(ZNodes.isrChangeNotification).count == 2)

            await client.close()
            try await root.deleteRecursively(base)
            await root.close()
        }
    }
}

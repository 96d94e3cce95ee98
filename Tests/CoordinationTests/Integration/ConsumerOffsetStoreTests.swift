import Coordination
import FerryTestKit
import KafkaModel
import Testing
import ZooKeeper

@Suite(.serialized, .enabled(if: TestEnsemble.isAvailable, "needs ZK_CONNECT; scripts/test.sh starts an ensemble"))
struct ConsumerOffsetStoreTests {
    /// A first commit whose fence no longer holds must leave no offset node behind: an empty one would read as a
    /// commit of nothing to old consumers and to tools reading `/consumers` directly.
    @Test func aFencedOffFirstCommitLeavesNoNodeAndACommitWritesItsNodeWhole() async throws {
        try await EnsembleAccess.shared.shared {
            let root = try await TestEnsemble.client()
            let base = try await scratchPath(root, #function)
            let client = try await TestEnsemble.client(chroot: base)
            let store = ConsumerOffsetStore(client: client)
            let statePath = "/state"
            _ = try await client.create(statePath, data: Array("{}".utf8))
            _ = try await client.set(statePath, data: Array("{\"isr\":[1]}".utf8))
            let stale = ConsumerOffsetStore.Fence(statePath: statePath, version: 0)
            let partitions = [TopicPartition("t", 0): (offset: Int64(42), metadata: "m"), TopicPartition("t", 1): (offset: Int64(7), metadata: "")]

            await #expect(throws: ZooKeeperError.self) {
                try await store.commit(group: "g", offsets: partitions, fence: stale)
            }
            #expect(try await client.exists("/consumers/g/offsets/t/0") == nil)
            #expect(try await client.exists("/consumers/g/offsets/t/1") == nil)

            let current = ConsumerOffsetStore.Fence(statePath: statePath, version: 1)
            try await store.commit(group: "g", offsets: partitions, fence: current)
            #expect(try await client.get("/consumers/g/offsets/t/0").data == Array("42".utf8))
            #expect(try await client.get("/consumers/g/offsets/t/0/metadata").data == Array("m".utf8))
            #expect(try await client.get("/consumers/g/offsets/t/1").data == Array("7".utf8))
            let fetched = try await store.fetch(group: "g", partitions: nil)
            #expect(fetched[TopicPartition("t", 0)]?.offset == 42 && fetched[TopicPartition("t", 0)]?.metadata == "m")
            #expect(fetched[TopicPartition("t", 1)]?.offset == 7 && fetched[TopicPartition("t", 1)]?.metadata == "")

            // Members committing their first offsets at once each create their own nodes.
            let clients = [client, try await TestEnsemble.client(chroot: base), try await TestEnsemble.client(chroot: base)]
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, each) in clients.enumerated() {
                    group.addTask {
                        try await ConsumerOffsetStore(client: each).commit(
                            group: "h", offsets: [TopicPartition("u", Int32(index)): (offset: Int64(index + 10), metadata: "")], fence: current)
                    }
                }
                try await group.waitForAll()
            }
            for index in 0..<3 {
                #expect(try await client.get("/consumers/h/offsets/u/\(index)").data == Array(String(index + 10).utf8))
            }
            for each in clients { await each.close() }
            try await root.deleteRecursively(base)
            await root.close()
        }
    }
}

import Coordination
import FerryTestKit
import Testing
import ZooKeeper

@Suite(.serialized, .enabled(if: TestEnsemble.isAvailable, "needs ZK_CONNECT; scripts/test.sh starts an ensemble"))
struct TopicAdminTests {
    /// The replica placement of CreateTopics reads `/brokers/ids` through `liveBrokers`. Brokers register through
    /// whichever server their session has, so the read must see registrations made through another server a moment
    /// before: a controller that placed replicas over its watched cache once refused a replication factor of 3 with
    /// one broker of three known.
    @Test func liveBrokersSeesRegistrationsJustMadeThroughAnotherServer() async throws {
        try await EnsembleAccess.shared.shared {
            let connect = try #require(TestEnsemble.connect)
            let servers = connect.split(separator: ",").map(String.init)
            try #require(servers.count >= 2, "needs two ensemble servers")
            let root = try await TestEnsemble.client()
            let base = try await scratchPath(root)
            let registering = try await ZooKeeperClient.connect(servers[0] + base, sessionTimeout: .seconds(8))
            let placing = try await ZooKeeperClient.connect(servers[1] + base, sessionTimeout: .seconds(8))
            try await BrokerRegistrar.ensurePersistentPaths(registering)
            let admin = TopicAdmin(client: placing)
            #expect(try await admin.liveBrokers().isEmpty)

            for id: Int32 in [3, 1, 2] {
                let registration = BrokerRegistration(
                    endpoints: [(listener: "PLAINTEXT", host: "127.0.0.1", port: 9000 + id)], rack: id == 2 ? nil : "rack-\(id)", timestamp: 1)
                try await registering.create(ZNodes.broker(id), data: registration.zNodeData(), mode: .ephemeral)
            }
            let live = try await admin.liveBrokers()
            #expect(live.map(\.id) == [1, 2, 3])
            #expect(live.map(\.rack) == ["rack-1", nil, "rack-3"])
            #expect(try await admin.liveBrokers(rackAware: false).map(\.rack) == [nil, nil, nil])

            try await registering.delete(ZNodes.broker(3))
            #expect(try await admin.liveBrokers().map(\.id) == [1, 2])
            // Placement over what was read: replication factor 3 is now more than the live brokers.
            await #expect(throws: TopicAdmin.Failure.self) {
                try await admin.create(name: "three", partitions: 1, replicationFactor: 3, brokers: try await admin.liveBrokers())
            }

            await registering.close()
            await placing.close()
            try await root.deleteRecursively(base)
            await root.close()
        }
    }
}

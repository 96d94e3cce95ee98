import Coordination
import FerryTestKit
import KafkaModel
import Testing
import ZooKeeper

@Suite(.serialized, .enabled(if: TestEnsemble.isAvailable, "needs ZK_CONNECT; scripts/test.sh starts an ensemble"))
struct BrokerRegistrarTests {
    /// A client rooted at a fresh chroot, so each test sees an empty "cluster".
    func chrootedClient(_ name: String = #function) async throws -> (ZooKeeperClient, ZooKeeperClient, String) {
        let root = try await TestEnsemble.client()
        let base = try await scratchPath(root, name)
        return (try await TestEnsemble.client(chroot: base), root, base)
    }

    func registration(port: Int32 = 9092) -> @Sendable () -> BrokerRegistration {
        { BrokerRegistration(endpoints: [(listener: "PLAINTEXT", host: "127.0.0.1", port: port)], rack: nil, timestamp: 1_700_000_000_000) }
    }

    /// Brokers of a new cluster starting together race to create the same paths; the one-transaction fast path
    /// fails for all but one, and every one of them must still end with the layout and the same cluster id.
    @Test func brokersStartingTogetherPrepareOneCluster() async throws {
        try await EnsembleAccess.shared.shared {
            let (client, root, base) = try await self.chrootedClient()
            var clients = [client]
            for _ in 0..<3 { clients.append(try await TestEnsemble.client(chroot: base)) }
            let ids = try await withThrowingTaskGroup(of: String.self) { group in
                for each in clients { group.addTask { try await BrokerRegistrar.prepareCluster(each) } }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(ids.count == 1 && ids.first?.count == 22)
            try await client.sync(ZNodes.clusterId)  // the others' writes may not have reached this client's server
            for path in ZNodes.persistentPaths + [ZNodes.clusterId] { #expect(try await client.exists(path) != nil, "\(path)") }
            // A second start finds everything and changes nothing.
            let before = try await client.exists(ZNodes.clusterId)
            #expect(try await BrokerRegistrar.prepareCluster(clients[1]) == ids.first)
            #expect(try await client.exists(ZNodes.clusterId) == before)
            for each in clients { await each.close() }
            try await root.deleteRecursively(base)
            await root.close()
        }
    }

    @Test func registersKafkasLayoutAndOneClusterIdForEveryone() async throws {
        try await EnsembleAccess.shared.shared {
            let (client, root, base) = try await self.chrootedClient()
            try await BrokerRegistrar.ensurePersistentPaths(client)
            for path in ZNodes.persistentPaths { #expect(try await client.exists(path) != nil, "\(path)") }
            let other = try await TestEnsemble.client(chroot: base)
            async let first = BrokerRegistrar.clusterId(client)
            async let second = BrokerRegistrar.clusterId(other)
            let (a, b) = try await (first, second)
            #expect(a == b && a.count == 22)
            #expect(try await BrokerRegistrar.clusterId(client) == a)

            let registrar = BrokerRegistrar(brokerId: 1, client: client, registration: self.registration())
            try await registrar.register()
            let node = try await client.get("/brokers/ids/1")
            #expect(node.stat.ephemeralOwner == client.sessionID)
            let decoded = try BrokerRegistration.decode(node.data, id: 1)
            #expect(decoded.version == 5 && decoded.endpoints == ["PLAINTEXT://127.0.0.1:9092"] && decoded.port == 9092)
            try await root.sync(base + "/brokers/ids")  // another session may be on a server that lags
            #expect(try await root.children(base + "/brokers/ids") == ["1"])

            await registrar.deregister()
            #expect(try await client.exists("/brokers/ids/1") == nil)
            await other.close()
            await client.close()
            try await root.deleteRecursively(base)
            await root.close()
        }
    }

    @Test func anIdHeldByAnotherLiveBrokerIsRefusedUntilItsSessionEnds() async throws {
        try await EnsembleAccess.shared.shared {
            let (client, root, base) = try await self.chrootedClient()
            let first = BrokerRegistrar(brokerId: 2, client: client, registration: self.registration())
            try await first.register()
            let otherClient = try await TestEnsemble.client(chroot: base)
            let second = BrokerRegistrar(brokerId: 2, client: otherClient, registration: self.registration(port: 9093))
            await #expect(throws: BrokerRegistrar.Conflict.self) { try await second.register() }

            let (_, gone) = try await otherClient.existsAndWatch("/brokers/ids/2")
            await client.close()  // the first broker dies: its ephemeral registration goes with its session
            _ = try await gone.event()
            try await second.register()
            let decoded = try BrokerRegistration.decode(try await otherClient.get("/brokers/ids/2").data, id: 2)
            #expect(decoded.port == 9093)
            await otherClient.close()
            try await root.deleteRecursively(base)
            await root.close()
        }
    }

    @Test func reRegistersAfterTheSessionExpires() async throws {
        try await EnsembleAccess.shared.shared {
            let (client, root, base) = try await self.chrootedClient()
            let registrar = BrokerRegistrar(brokerId: 3, client: client, registration: self.registration())
            try await registrar.register()
            let firstEpoch = await registrar.brokerEpoch
            #expect(try await client.exists("/brokers/ids/3")?.czxid == firstEpoch)
            let old = try #require(client.sessionCredentials)
            try await TestEnsemble.expireSession(old)
            try await eventually("the broker is registered again under its new session") {
                guard let stat = try? await client.exists("/brokers/ids/3"), let session = client.sessionID else { return false }
                return stat.ephemeralOwner == session && session != old.sessionID
            }
            // The broker epoch is the new registration's czxid, newer than the old one.
            try await eventually("the broker epoch follows the new registration") {
                await registrar.brokerEpoch > firstEpoch
            }
            #expect(try await client.exists("/brokers/ids/3")?.czxid == (await registrar.brokerEpoch))
            await registrar.deregister()
            await client.close()
            try await root.deleteRecursively(base)
            await root.close()
        }
    }
}


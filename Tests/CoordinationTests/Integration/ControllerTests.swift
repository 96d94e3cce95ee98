@testable import Controller
import Coordination
import FerryTestKit
import KafkaModel
import Testing
import ZooKeeper

@Suite(.serialized, .enabled(if: TestEnsemble.isAvailable, "needs ZK_CONNECT; scripts/test.sh starts an ensemble"))
struct ControllerTests {
    func cluster(_ name: String = #function) async throws -> (root: ZooKeeperClient, base: String) {
        let root = try await TestEnsemble.client()
        let base = try await scratchPath(root, name)
        let chrooted = try await TestEnsemble.client(chroot: base)
        try await BrokerRegistrar.ensurePersistentPaths(chrooted)
        await chrooted.close()
        return (root, base)
    }

    func registerBroker(_ id: Int32, on client: ZooKeeperClient) async throws {
        let registration = BrokerRegistration(endpoints: [(listener: "PLAINTEXT", host: "127.0.0.1", port: 9000 + id)], rack: nil, timestamp: 1)
        try await client.create(ZNodes.broker(id), data: registration.zNodeData(), mode: .ephemeral)
    }

    /// Runs `body` with broker 1's controller running in a fresh cluster where `brokers` are registered, then
    /// cleans up.
    func withController(
        brokers: [Int32], deleteTopicEnable: Bool = true, _ name: String = #function,
        _ body: @Sendable (_ client: ZooKeeperClient, _ controller: Controller) async throws -> Void
    ) async throws {
        try await EnsembleAccess.shared.shared {
            let (root, base) = try await self.cluster(name)
            let client = try await TestEnsemble.client(chroot: base)
            for id in brokers { try await self.registerBroker(id, on: client) }
            let controller = Controller(brokerId: 1, client: client, deleteTopicEnable: deleteTopicEnable)
            let run = Task { await controller.run() }
            defer { run.cancel() }
            try await body(client, controller)
            await client.close()
            try await root.deleteRecursively(base)
            await root.close()
        }
    }

    @Test func oneCandidateWinsAndTheOtherTakesOverWithTheNextEpoch() async throws {
        try await EnsembleAccess.shared.shared {
            let (root, base) = try await self.cluster()
            let first = try await TestEnsemble.client(chroot: base)
            let second = try await TestEnsemble.client(chroot: base)
            let one = Controller(brokerId: 1, client: first)
            let two = Controller(brokerId: 2, client: second)
            let runs = [Task { await one.run() }, Task { await two.run() }]
            try await eventually("one controller is elected") { await one.isActive != two.isActive }
            let winner = await one.isActive ? 1 : 2
            try await root.sync(base + "/controller_epoch")
            #expect(try ControllerZNode.decode(try await root.get(base + "/controller").data).brokerid == Int32(winner))
            #expect(try await root.get(base + "/controller_epoch").string == "1")

            await (winner == 1 ? first : second).close()  // the controller's session ends
            let survivor = winner == 1 ? two : one
            try await eventually("the other broker takes over") { await survivor.isActive }
            #expect(await survivor.term?.epoch == 2)
            try await root.sync(base + "/controller_epoch")
            #expect(try await root.get(base + "/controller_epoch").string == "2")
            for run in runs { run.cancel() }
            await (winner == 1 ? second : first).close()
            try await root.deleteRecursively(base)
            await root.close()
        }
    }

    @Test func newTopicsGetLeaderAndISRFromTheLiveReplicasInAssignmentOrder() async throws {
        try await self.withController(brokers: [1, 2]) { client, controller in
            try await eventually("the controller is elected") { await controller.isActive }

            let assignment = TopicAssignment(partitions: [0: [2, 1], 1: [3, 1], 2: [3]])
            try await client.create(ZNodes.topic("orders"), data: assignment.zNodeData())
            try await eventually("partitions 0 and 1 get states") {
                let first = try? await client.exists(ZNodes.partitionState("orders", 0))
                let second = try? await client.exists(ZNodes.partitionState("orders", 1))
                return first != nil && second != nil
            }
            let p0 = try PartitionStateZNode.decode(try await client.get(ZNodes.partitionState("orders", 0)).data, topic: "orders", partition: 0)
            let p1 = try PartitionStateZNode.decode(try await client.get(ZNodes.partitionState("orders", 1)).data, topic: "orders", partition: 1)
            #expect(p0 == PartitionStateZNode(leader: 2, leaderEpoch: 0, isr: [2, 1], controllerEpoch: 1))
            #expect(p1 == PartitionStateZNode(leader: 1, leaderEpoch: 0, isr: [1], controllerEpoch: 1))
            // No live replica: no state, until broker 3 registers.
            #expect(try await client.exists(ZNodes.partitionState("orders", 2)) == nil)
            try await self.registerBroker(3, on: client)
            try await eventually("partition 2 gets a state once broker 3 is live") {
                (try? await client.exists(ZNodes.partitionState("orders", 2))) != nil
            }
        }
    }

    @Test func addedPartitionsGetStatesToo() async throws {
        try await self.withController(brokers: [1, 2]) { client, _ in
            try await client.create(ZNodes.topic("grows"), data: TopicAssignment(partitions: [0: [1]], topicId: "x").zNodeData())
            try await eventually("partition 0 gets a state") { (try? await client.exists(ZNodes.partitionState("grows", 0))) != nil }
            let admin = TopicAdmin(client: client)
            let added = try await admin.addPartitions("grows", count: 3, brokers: [.init(id: 1), .init(id: 2)])
            #expect(added.keys.sorted() == [1, 2])
            try await eventually("the added partitions get states") {
                let one = try? await client.exists(ZNodes.partitionState("grows", 1))
                let two = try? await client.exists(ZNodes.partitionState("grows", 2))
                return one != nil && two != nil
            }
            let assignment = try TopicAssignment.decode(try await client.get(ZNodes.topic("grows")).data, topic: "grows")
            #expect(assignment.topicId == "x" && assignment.partitions[0] == [1])
            await #expect(throws: TopicAdmin.Failure.self) { try await admin.addPartitions("grows", count: 2, brokers: [.init(id: 1)]) }
        }
    }

    @Test func markedTopicsAreDeletedOnceEveryReplicaBrokerIsLive() async throws {
        try await self.withController(brokers: [1]) { client, _ in
            let admin = TopicAdmin(client: client)
            try await admin.create(name: "doomed", partitions: 2, replicationFactor: 1, brokers: [.init(id: 1)], config: ["retention.ms": "1000"])
            try await client.create(ZNodes.topic("waits"), data: TopicAssignment(partitions: [0: [1], 1: [2]]).zNodeData())
            try await eventually("doomed gets partition states") { (try? await client.exists(ZNodes.partitionState("doomed", 1))) != nil }
            try await admin.markForDeletion("doomed")
            try await admin.markForDeletion("waits")
            await #expect(throws: TopicAdmin.Failure.self) { try await admin.markForDeletion("never-existed") }
            try await eventually("doomed, its config and its mark are gone") {
                let topic = try? await client.exists(ZNodes.topic("doomed"))
                let config = try? await client.exists(ZNodes.topicConfig("doomed"))
                let mark = try? await client.exists(ZNodes.deleteTopic("doomed"))
                return topic == nil && config == nil && mark == nil
            }
            // Broker 2 hosts a replica of "waits" and is offline: the deletion waits for it.
            #expect(try await client.exists(ZNodes.topic("waits")) != nil)
            #expect(try await client.exists(ZNodes.deleteTopic("waits")) != nil)
            try await self.registerBroker(2, on: client)
            try await eventually("waits is deleted once broker 2 is back") { (try? await client.exists(ZNodes.topic("waits"))) == nil }
        }
    }

    @Test func withDeletionDisabledTheMarkIsRemovedAndTheTopicKept() async throws {
        try await self.withController(brokers: [1], deleteTopicEnable: false) { client, _ in
            try await client.create(ZNodes.topic("kept"), data: TopicAssignment(partitions: [0: [1]]).zNodeData())
            try await TopicAdmin(client: client).markForDeletion("kept")
            try await eventually("the mark is removed") { (try? await client.exists(ZNodes.deleteTopic("kept"))) == nil }
            #expect(try await client.exists(ZNodes.topic("kept")) != nil)
        }
    }

    @Test func whenALeaderDiesTheControllerElectsTheNextISRMemberAndFencesItsWrite() async throws {
        try await EnsembleAccess.shared.shared {
            let (root, base) = try await self.cluster()
            let client = try await TestEnsemble.client(chroot: base)
            let brokerTwo = try await TestEnsemble.client(chroot: base)
            try await self.registerBroker(1, on: client)
            try await self.registerBroker(2, on: brokerTwo)
            let controller = Controller(brokerId: 1, client: client)
            let run = Task { await controller.run() }
            try await client.create(ZNodes.topic("failover"), data: TopicAssignment(partitions: [0: [2, 1], 1: [1, 2]]).zNodeData())
            try await eventually("both partitions get states") {
                (try? await client.exists(ZNodes.partitionState("failover", 1))) != nil
            }
            await brokerTwo.close()  // broker 2's session ends: its registration goes
            try await eventually("partition 0 moves to broker 1 and broker 2 leaves both ISRs") {
                guard let zero = try? await client.get(ZNodes.partitionState("failover", 0)),
                      let one = try? await client.get(ZNodes.partitionState("failover", 1)),
                      let p0 = try? PartitionStateZNode.decode(zero.data, topic: "failover", partition: 0),
                      let p1 = try? PartitionStateZNode.decode(one.data, topic: "failover", partition: 1)
                else { return false }
                return p0.leader == 1 && p0.isr == [1] && p0.leaderEpoch == 1 && p1.leader == 1 && p1.isr == [1]
            }
            run.cancel()
            await client.close()
            try await root.deleteRecursively(base)
            await root.close()
        }
    }

    @Test func controlledShutdownChecksTheBrokerEpochAgainstTheRegistration() async throws {
        try await self.withController(brokers: [1, 2]) { client, controller in
            try await eventually("the controller is active") { await controller.isActive }
            let epoch = try #require(try await client.exists(ZNodes.broker(2))).czxid
            // An older incarnation of broker 2 (its epoch before the current registration) is refused ...
            await #expect(throws: ControllerError.staleBrokerEpoch) {
                try await controller.controlledShutdown(of: 2, brokerEpoch: epoch - 1)
            }
            // ... the current one, and a request without an epoch (v0-1), are served.
            #expect(try await controller.controlledShutdown(of: 2, brokerEpoch: epoch).isEmpty)
            #expect(try await controller.controlledShutdown(of: 2).isEmpty)
            await #expect(throws: ControllerError.brokerNotAvailable) {
                try await controller.controlledShutdown(of: 7, brokerEpoch: 1)
            }
        }
    }

    @Test func aDeposedControllersWritesAreFenced() async throws {
        try await EnsembleAccess.shared.shared {
            let (root, base) = try await self.cluster()
            let client = try await TestEnsemble.client(chroot: base)
            try await self.registerBroker(1, on: client)
            let controller = Controller(brokerId: 1, client: client)
            let election = ControllerElection(brokerId: 1, client: client)
            let stale = try #require(try await election.attempt(timestamp: 1))
            // A successor bumps the epoch; the stale term may no longer write.
            try await client.delete(ZNodes.controller)
            _ = try #require(try await ControllerElection(brokerId: 2, client: client).attempt(timestamp: 2))
            try await client.create(ZNodes.topic("t"), data: TopicAssignment(partitions: [0: [1]]).zNodeData())
            await #expect(throws: ZooKeeperError.self) { try await controller.createMissingPartitionStates(stale, topics: ["t"], live: [1]) }
            #expect(try await client.exists(ZNodes.partitionState("t", 0)) == nil)
            await client.close()
            try await root.deleteRecursively(base)
            await root.close()
        }
    }
}

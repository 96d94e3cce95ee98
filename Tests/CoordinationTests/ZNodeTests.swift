@testable import Coordination
import Foundation
import KafkaModel
import Testing

@Suite struct ZNodeTests {
    private func json(_ data: [UInt8]) throws -> NSDictionary {
        try #require(try JSONSerialization.jsonObject(with: Data(data)) as? NSDictionary)
    }

    @Test func brokerRegistrationIsKafkasVersion5() throws {
        let registration = BrokerRegistration(
            endpoints: [(listener: "PLAINTEXT", host: "kafka1", port: 9092)], rack: nil, timestamp: 1_700_000_000_000)
        let written = try self.json(registration.zNodeData())
        let expected = try self.json(Array(#"{"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT"},"endpoints":["PLAINTEXT://kafka1:9092"],"jmx_port":-1,"features":{},"host":"kafka1","timestamp":"1700000000000","port":9092,"version":5}"#.utf8))
        #expect(written == expected)
        #expect(try BrokerRegistration.decode(registration.zNodeData(), id: 1) == registration)
    }

    @Test func brokerRegistrationsOfEveryVersionAreRead() throws {
        let v1 = try BrokerRegistration.decode(Array(#"{"jmx_port":-1,"timestamp":"1","host":"h","version":1,"port":9092}"#.utf8), id: 1)
        #expect(v1.parsedEndpoints.map { "\($0.listener) \($0.host) \($0.port)" } == ["PLAINTEXT h 9092"])
        let v4 = try BrokerRegistration.decode(
            Array(#"{"listener_security_protocol_map":{"INTERNAL":"PLAINTEXT"},"endpoints":["INTERNAL://10.0.0.1:9093"],"rack":"r1","jmx_port":-1,"host":null,"timestamp":"5","port":-1,"version":4,"extra":true}"#.utf8), id: 2)
        #expect(v4.rack == "r1" && v4.host == nil && v4.port == -1)
        #expect(v4.parsedEndpoints.first?.listener == "INTERNAL" && v4.parsedEndpoints.first?.port == 9093)
    }

    @Test func topicAssignmentUsesStringPartitionKeysAndToleratesAMissingTopicId() throws {
        let example = #"{"version":3,"partitions":{"0":[1,2,3],"1":[2,3,1]},"adding_replicas":{},"removing_replicas":{},"topic_id":"tVlZ1JqUTtWzW3m1kXb7oA"}"#
        let assignment = try TopicAssignment.decode(Array(example.utf8), topic: "t")
        #expect(assignment.partitions == [0: [1, 2, 3], 1: [2, 3, 1]])
        #expect(assignment.topicId == "tVlZ1JqUTtWzW3m1kXb7oA")
        #expect(try self.json(assignment.zNodeData()) == self.json(Array(example.utf8)))
        let old = try TopicAssignment.decode(Array(#"{"version":1,"partitions":{"0":[3]}}"#.utf8), topic: "t")
        #expect(old.partitions == [0: [3]] && old.topicId == nil)
        #expect(throws: ZNodeDecodingError.self) { try TopicAssignment.decode(Array(#"{"version":1,"partitions":{"x":[3]}}"#.utf8), topic: "t") }
    }

    @Test func partitionStateControllerAndEpochNodes() throws {
        let state = try PartitionStateZNode.decode(
            Array(#"{"controller_epoch":3,"leader":2,"version":1,"leader_epoch":7,"isr":[2,3]}"#.utf8), topic: "t", partition: 0)
        #expect(state == PartitionStateZNode(leader: 2, leaderEpoch: 7, isr: [2, 3], controllerEpoch: 3))
        #expect(try self.json(state.zNodeData())["leader_recovery_state"] == nil)
        let controller = ControllerZNode(brokerId: 1, timestamp: 1_700_000_000_000)
        #expect(try self.json(controller.zNodeData()) == self.json(Array(#"{"version":2,"brokerid":1,"timestamp":"1700000000000","kraftControllerEpoch":-1}"#.utf8)))
        #expect(try ControllerZNode.decode(Array(#"{"version":1,"brokerid":4,"timestamp":"9"}"#.utf8)).brokerid == 4)
        #expect(try ControllerEpochZNode.decode(Array("5".utf8)) == 5)
        #expect(ControllerEpochZNode.encode(6) == Array("6".utf8))
        #expect(try self.json(ClusterIdZNode(id: "abc").zNodeData()) == self.json(Array(#"{"version":"1","id":"abc"}"#.utf8)))
    }

    @Test func configAndNotificationNodes() throws {
        let config = EntityConfigZNode(config: ["retention.ms": "86400000"])
        #expect(try self.json(config.zNodeData()) == self.json(Array(#"{"version":1,"config":{"retention.ms":"86400000"}}"#.utf8)))
        #expect(try ConfigChangeNotification.decode(Array(#"{"version":2,"entity_path":"topics/t"}"#.utf8)).path == "topics/t")
        #expect(try ConfigChangeNotification.decode(Array(#"{"version":1,"entity_type":"topics","entity_name":"t"}"#.utf8)).path == "topics/t")
        let list = PartitionListZNode(partitions: [TopicPartition("t", 0)])
        #expect(try PartitionListZNode.decode(list.zNodeData(), path: "/x").topicPartitions == [TopicPartition("t", 0)])
        let block = try ProducerIdBlockZNode.decode(Array(#"{"version":1,"broker":2,"block_start":"5000","block_end":"5999"}"#.utf8))
        #expect(block.range == 5000...5999 && block.broker == 2)
    }
}

@Suite struct ReplicaAssignmentTests {
    @Test func rackUnawareMatchesKafkasAdminTest() throws {
        let brokers = (0..<5).map { ReplicaAssignment.Broker(id: Int32($0)) }
        let assignment = try ReplicaAssignment.assign(brokers: brokers, partitions: 10, replicationFactor: 3, fixedStartIndex: 0)
        #expect(assignment == [
            0: [0, 1, 2], 1: [1, 2, 3], 2: [2, 3, 4], 3: [3, 4, 0], 4: [4, 0, 1],
            5: [0, 2, 3], 6: [1, 3, 4], 7: [2, 4, 0], 8: [3, 0, 1], 9: [4, 1, 2],
        ])
    }

    @Test func rackAlternatedBrokerListMatchesKafkas() {
        let brokers: [ReplicaAssignment.Broker] = [
            .init(id: 0, rack: "rack1"), .init(id: 1, rack: "rack3"), .init(id: 2, rack: "rack3"),
            .init(id: 3, rack: "rack2"), .init(id: 4, rack: "rack2"), .init(id: 5, rack: "rack1"),
        ]
        #expect(ReplicaAssignment.rackAlternatedBrokers(brokers) == [0, 3, 1, 5, 4, 2])
    }

    @Test func rackAwarePlacementSpreadsEveryPartitionOverRacksAndLeadersEvenly() throws {
        let brokers: [ReplicaAssignment.Broker] = (0..<6).map { .init(id: Int32($0), rack: "rack\($0 % 3)") }
        for start in [-1, 0, 2] {
            let assignment = try ReplicaAssignment.assign(brokers: brokers, partitions: 12, replicationFactor: 3, fixedStartIndex: start)
            for replicas in assignment.values {
                #expect(Set(replicas).count == 3)
                #expect(Set(replicas.map { $0 % 3 }).count == 3, "\(replicas) repeats a rack")
            }
            let leaders = Dictionary(grouping: assignment.values.map { $0[0] }, by: { $0 }).mapValues(\.count)
            #expect(leaders.values.allSatisfy { $0 == 2 })
        }
    }

    @Test func randomStartsStillBalanceLeadersAndReplicas() throws {
        let brokers = (1...3).map { ReplicaAssignment.Broker(id: Int32($0)) }
        let assignment = try ReplicaAssignment.assign(brokers: brokers, partitions: 6, replicationFactor: 2)
        #expect(assignment.keys.sorted() == Array(0...5))
        let leaders = Dictionary(grouping: assignment.values.map { $0[0] }, by: { $0 }).mapValues(\.count)
        #expect(leaders == [1: 2, 2: 2, 3: 2])
        #expect(assignment.values.allSatisfy { Set($0).count == 2 })
        let more = try ReplicaAssignment.assign(brokers: brokers, partitions: 3, replicationFactor: 1, firstPartition: 6)
        #expect(more.keys.sorted() == [6, 7, 8])
    }

    @Test func impossibleRequestsAreKafkasErrors() {
        let brokers = (0..<2).map { ReplicaAssignment.Broker(id: Int32($0)) }
        #expect(throws: ReplicaAssignment.Failure.invalidReplicationFactor("Replication factor: 3 larger than available brokers: 2.")) {
            try ReplicaAssignment.assign(brokers: brokers, partitions: 1, replicationFactor: 3)
        }
        #expect(throws: ReplicaAssignment.Failure.invalidPartitions("Number of partitions must be larger than 0.")) {
            try ReplicaAssignment.assign(brokers: brokers, partitions: 0, replicationFactor: 1)
        }
        #expect(throws: ReplicaAssignment.Failure.self) {
            try ReplicaAssignment.assign(brokers: [.init(id: 0, rack: "a"), .init(id: 1)], partitions: 1, replicationFactor: 1)
        }
    }
}

@Suite struct TopicNameTests {
    @Test func kafkasTopicNameRules() throws {
        for name in ["orders", "a.b_c-d", String(repeating: "x", count: 249), "T0"] { try TopicAdmin.validate(name: name) }
        for name in ["", ".", "..", "with space", "slash/", "ünïcode", String(repeating: "x", count: 250)] {
            #expect(throws: TopicAdmin.Failure.self, "\(name)") { try TopicAdmin.validate(name: name) }
        }
    }
}

import Coordination
import Testing

@Suite struct BalancedConsumerGroupTests {
    typealias Group = BalancedConsumerGroup

    @Test func kafkasRangeSplitsThreadsInStringOrder() {
        // Kafka's documented example: threads C1-0, C1-1, C2-0, C2-1 and partitions 0-4.
        let members: [String: Group.Registration] = [
            "C2": .kafka(subscription: ["t": 2], pattern: "static", timestamp: "1"),
            "C1": .kafka(subscription: ["t": 2, "other": 1], pattern: "static", timestamp: "1"),
            "C3": .kafka(subscription: ["other": 1], pattern: "static", timestamp: "1"),
        ]
        let partitions = [4, 2, 0, 3, 1].map { Group.PartitionInfo(id: Int32($0), leader: 1) }
        let owners = Group.assign(topic: "t", partitions: partitions, members: members, dialect: .kafka)
        #expect(owners == [0: "C1-0", 1: "C1-0", 2: "C1-1", 3: "C2-0", 4: "C2-1"])
        // Strings, not numbers: thread -10 sorts before -2.
        let many: [String: Group.Registration] = ["C": .kafka(subscription: ["t": 11], pattern: "static", timestamp: "1")]
        let spread = Group.assign(topic: "t", partitions: (0..<3).map { Group.PartitionInfo(id: Int32($0), leader: 1) }, members: many, dialect: .kafka)
        #expect(spread == [0: "C-0", 1: "C-1", 2: "C-10"])
    }

    @Test func pykafkasRangeOrdersPartitionsByTopicLeaderAndId() {
        let members: [String: Group.Registration] = ["b-consumer": .pykafka(topic: "t"), "a-consumer": .pykafka(topic: "t"), "x": .pykafka(topic: "u")]
        // Keys t-1-10, t-1-2, t-2-0, t-2-1: the string order puts partition 10 before 2.
        let partitions = [Group.PartitionInfo(id: 2, leader: 1), Group.PartitionInfo(id: 10, leader: 1), Group.PartitionInfo(id: 0, leader: 2), Group.PartitionInfo(id: 1, leader: 2)]
        let owners = Group.assign(topic: "t", partitions: partitions, members: members, dialect: .pykafka)
        #expect(owners == [10: "a-consumer", 2: "a-consumer", 0: "b-consumer", 1: "b-consumer"])
        #expect(Group.ownerNodeName(partitions[1], dialect: .pykafka) == "1-10")
        #expect(Group.ownerNodeName(partitions[1], dialect: .kafka) == "10")
        #expect(Group.partition(ofOwnerNode: "1-10") == 10 && Group.partition(ofOwnerNode: "7") == 7)
    }

    @Test func aGroupSpeaksPykafkasDialectWhileAnotherMemberRegisteredThatWay() {
        var members: [String: Group.Registration] = ["me": .kafka(subscription: ["t": 1], pattern: "static", timestamp: "1")]
        #expect(Group.dialect(for: "t", members: members, me: "me") == .kafka)
        members["me"] = .pykafka(topic: "t")
        #expect(Group.dialect(for: "t", members: members, me: "me") == .kafka, "our own registration does not decide")
        members["host:uuid"] = .pykafka(topic: "t")
        #expect(Group.dialect(for: "t", members: members, me: "me") == .pykafka)
        #expect(Group.dialect(for: "u", members: members, me: "me") == .kafka)
    }

    @Test func registrationsRoundTripKafkasJsonAndPykafkasBareTopic() {
        let registration = Group.Registration.kafka(subscription: ["orders": 2, "clicks": 1], pattern: "static", timestamp: "1400000000000")
        #expect(String(decoding: registration.data, as: UTF8.self)
            == #"{"version":1,"subscription":{"clicks":1,"orders":2},"pattern":"static","timestamp":"1400000000000"}"#)
        #expect(Group.Registration.parse(registration.data) == registration)
        #expect(Group.Registration.parse(Array("orders".utf8)) == .pykafka(topic: "orders"))
        let whitelist = Group.Registration.kafka(subscription: ["ord.*|clicks": 1], pattern: "white_list", timestamp: "1")
        #expect(whitelist.streams(for: "orders") == 1 && whitelist.streams(for: "clicks") == 1 && whitelist.streams(for: "views") == 0)
        #expect(whitelist.streams(for: "__consumer_offsets") == 0)
        let blacklist = Group.Registration.kafka(subscription: ["views": 3], pattern: "black_list", timestamp: "1")
        #expect(blacklist.streams(for: "orders") == 3 && blacklist.streams(for: "views") == 0)
    }
}

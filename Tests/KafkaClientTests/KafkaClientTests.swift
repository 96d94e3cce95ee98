import KafkaModel
import KafkaRecords
import NIOCore
import Testing

@testable import KafkaClient

struct PartitionerTests {
    /// Kafka's own vectors (clients `UtilsTest.testMurmur2`): a key must land where the Java client puts it.
    @Test func murmur2MatchesKafka() {
        let cases: [(String, Int32)] = [
            ("21", -973_932_308), ("foobar", -790_332_482), ("a-little-bit-long-string", -985_981_536),
            ("a-little-bit-longer-string", -1_486_304_829), ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58_897_971),
            ("abc", 479_470_107),
        ]
        for (key, hash) in cases { #expect(Partitioner.murmur2(Array(key.utf8)) == hash, "\(key)") }
        #expect(Partitioner.partition(forKey: Array("foobar".utf8), count: 7) == Int32((-790_332_482 & 0x7fff_ffff) % 7))
    }
}

struct RangeAssignorTests {
    @Test func splitsEachTopicIntoRunsWithTheRemainderToTheFirstMembers() {
        let assignment = GroupMembership.rangeAssignment(
            subscriptions: ["c": ["t", "u"], "a": ["t"], "b": ["t", "u"]], partitionCounts: ["t": 7, "u": 2])
        #expect(assignment["a"] == (0...2).map { TopicPartition("t", $0) })
        #expect(assignment["b"] == [3, 4].map { TopicPartition("t", $0) } + [TopicPartition("u", 0)])
        #expect(assignment["c"] == [5, 6].map { TopicPartition("t", $0) } + [TopicPartition("u", 1)])
    }

    @Test func membersBeyondThePartitionsGetNothing() {
        let assignment = GroupMembership.rangeAssignment(subscriptions: ["a": ["t"], "b": ["t"], "c": ["t"]], partitionCounts: ["t": 2])
        #expect(assignment["a"] == [TopicPartition("t", 0)] && assignment["b"] == [TopicPartition("t", 1)] && assignment["c"] == [])
    }
}

struct ConsumerDecodeTests {
    func batch(base: Int64, values: [String], control: Bool = false) throws -> ByteBuffer {
        var builder = RecordBatchBuilder()
        builder.baseOffset = base
        builder.isControl = control
        for (index, value) in values.enumerated() {
            builder.append(timestamp: 1_000 + Int64(index), key: nil, value: ByteBuffer(string: value))
        }
        return try builder.build().buffer
    }

    @Test func skipsRecordsBeforeThePositionControlBatchesAndAPartialTail() throws {
        var set = try self.batch(base: 10, values: ["a", "b", "c"])
        set.writeImmutableBuffer(try self.batch(base: 13, values: ["marker"], control: true))
        set.writeImmutableBuffer(try self.batch(base: 14, values: ["d"]))
        let partial = try self.batch(base: 15, values: ["cut off"])
        set.writeImmutableBuffer(partial.getSlice(at: partial.readerIndex, length: partial.readableBytes - 3)!)
        let (records, next) = try KafkaConsumer.decode(set, partition: TopicPartition("t", 0), from: 11)
        #expect(records.map(\.offset) == [11, 12, 14])
        #expect(records.map { String(buffer: $0.value!) } == ["b", "c", "d"])
        #expect(records.map(\.timestamp) == [1_001, 1_002, 1_000])
        #expect(next == 15)
    }
}

struct ConfigurationTests {
    @Test func producerPropertiesApplyAndBadValuesSayWhich() throws {
        var configuration = KafkaProducer.Configuration()
        try configuration.apply(["acks": "all", "linger.ms": "20", "compression.type": "zstd", "unknown.key": "x"])
        #expect(configuration.acks == -1 && configuration.lingerMs == 20 && configuration.compression == .zstd)
        #expect(throws: KafkaClientError.self) { try configuration.apply(["acks": "2"]) }
        #expect(throws: KafkaClientError.self) { try configuration.apply(["batch.size": "big"]) }
    }

    @Test func bootstrapListsParse() throws {
        #expect(try BrokerAddress.parseList("node1:9092, node2:9093") == [BrokerAddress(host: "node1", port: 9092), BrokerAddress(host: "node2", port: 9093)])
        #expect(try BrokerAddress.parseList("[::1]:9092") == [BrokerAddress(host: "::1", port: 9092)])
        #expect(throws: KafkaClientError.self) { try BrokerAddress.parseList("node1") }
        #expect(throws: KafkaClientError.self) { try BrokerAddress.parseList("") }
    }
}

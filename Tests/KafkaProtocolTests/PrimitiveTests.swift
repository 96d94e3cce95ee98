import KafkaModel
import KafkaProtocol
import NIOCore
import Testing

@Suite struct PrimitiveTests {
    private func bytes(_ write: (inout KafkaWriter) throws -> Void) rethrows -> [UInt8] {
        var writer = KafkaWriter()
        try write(&writer)
        return Array(writer.buffer.readableBytesView)
    }

    static let zigZagVectors: [(Int32, [UInt8])] = [
        (0, [0x00]), (-1, [0x01]), (1, [0x02]), (-2, [0x03]), (63, [0x7E]), (-64, [0x7F]),
        (64, [0x80, 0x01]), (300, [0xD8, 0x04]), (Int32.max, [0xFE, 0xFF, 0xFF, 0xFF, 0x0F]),
        (Int32.min, [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]),
    ]

    @Test(arguments: Self.zigZagVectors)
    func zigZagVarintsMatchKafka(value: Int32, encoded: [UInt8]) throws {
        #expect(self.bytes { $0.writeVarint(value) } == encoded)
        var reader = KafkaReader(ByteBuffer(bytes: encoded))
        #expect(try reader.readVarint("v") == value)
    }

    @Test func varintsAndVarlongsRoundTrip() throws {
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<2000 {
            let int = Int32.random(in: .min ... .max, using: &generator)
            let long = Int64.random(in: .min ... .max, using: &generator)
            let unsigned = UInt32.random(in: 0 ... .max, using: &generator) >> UInt32.random(in: 0...31, using: &generator)
            var writer = KafkaWriter()
            writer.writeVarint(int)
            writer.writeVarlong(long)
            writer.writeUnsignedVarint(unsigned)
            var reader = KafkaReader(writer.buffer)
            #expect(try reader.readVarint("i") == int)
            #expect(try reader.readVarlong("l") == long)
            #expect(try reader.readUnsignedVarint("u") == unsigned)
            #expect(reader.readableBytes == 0)
        }
        #expect(self.bytes { $0.writeVarlong(Int64.min) }.count == 10)
    }

    @Test func overlongVarintsAreRejected() {
        var reader = KafkaReader(ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]))
        #expect(throws: KafkaProtocolError(.invalidVarint, field: "v")) { try reader.readUnsignedVarint("v") }
        var long = KafkaReader(ByteBuffer(bytes: Array(repeating: 0xFF, count: 10) + [0x01]))
        #expect(throws: KafkaProtocolError(.invalidVarint, field: "l")) { try long.readVarlong("l") }
    }

    @Test func stringsBytesAndArraysUseKafkasLengthEncodings() throws {
        #expect(try self.bytes { try $0.writeString("ab", "s", compact: false) } == [0, 2, 0x61, 0x62])
        #expect(try self.bytes { try $0.writeString("ab", "s", compact: true) } == [3, 0x61, 0x62])
        #expect(try self.bytes { try $0.writeNullableString(nil, "s", compact: false) } == [0xFF, 0xFF])
        #expect(try self.bytes { try $0.writeNullableString(nil, "s", compact: true) } == [0])
        #expect(try self.bytes { try $0.writeNullableBytes(nil, "b", compact: false) } == [0xFF, 0xFF, 0xFF, 0xFF])
        #expect(try self.bytes { try $0.writeArray([Int32](), "a", compact: true) { $0.writeInt32($1) } } == [1])
        #expect(try self.bytes { try $0.writeNullableArray([Int32]?.none, "a", compact: true) { $0.writeInt32($1) } } == [0])
        #expect(self.bytes { $0.writeUUID(KafkaUUID(high: 1, low: 2)) } == [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2])
    }

    @Test func lengthsBeyondTheInputAreRejectedBeforeAllocating() {
        var string = KafkaReader(ByteBuffer(bytes: [0x7F, 0xFF, 0x61]))
        #expect(throws: KafkaProtocolError(.truncated, field: "s")) { try string.readString("s", compact: false) }
        var array = KafkaReader(ByteBuffer(bytes: [0x7F, 0xFF, 0xFF, 0xFF]))
        #expect(throws: KafkaProtocolError(.truncated, field: "a")) {
            try array.readArray("a", compact: false) { try $0.readInt8("e") }
        }
        var negative = KafkaReader(ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFE]))
        #expect(throws: KafkaProtocolError(.invalidLength(-2), field: "b")) { try negative.readBytes("b", compact: false) }
        var null = KafkaReader(ByteBuffer(bytes: [0]))
        #expect(throws: KafkaProtocolError(.unexpectedNull, field: "s")) { try null.readString("s", compact: true) }
    }

    @Test func unknownTaggedFieldsSurviveARoundTrip() throws {
        // ApiVersionsRequest v3 body: two compact strings, then a tagged section with an unknown tag 9.
        let body: [UInt8] = [4, 0x6B, 0x63, 0x74, 2, 0x31, 1, 9, 2, 0xAB, 0xCD]
        var reader = KafkaReader(ByteBuffer(bytes: body))
        let request = try ApiVersionsRequest(from: &reader, version: 3)
        #expect(request.clientSoftwareName == "kct")
        #expect(request.clientSoftwareVersion == "1")
        #expect(request.unknownTaggedFields == [TaggedField(tag: 9, data: [0xAB, 0xCD])])
        var writer = KafkaWriter()
        try request.encode(to: &writer, version: 3)
        #expect(Array(writer.buffer.readableBytesView) == body)
    }

    @Test func kafkaUUIDPrintsAsKafkaDoes() {
        #expect(KafkaUUID.zero.description == "AAAAAAAAAAAAAAAAAAAAAA")
        #expect(KafkaUUID(high: 0x0123_4567_89AB_CDEF, low: 0xFEDC_BA98_7654_3210).description == "ASNFZ4mrze_-3LqYdlQyEA")
        let random = KafkaUUID.random()
        #expect(random.high & 0xF000 == 0x4000)
        #expect(random.description.count == 22)
    }

    @Test func errorCodesCarryKafkasNamesAndRetriability() {
        #expect(ErrorCode.notLeaderOrFollower.rawValue == 6)
        #expect(ErrorCode.notLeaderOrFollower.name == "NOT_LEADER_OR_FOLLOWER")
        #expect(ErrorCode.notLeaderOrFollower.isRetriable && ErrorCode.notLeaderOrFollower.invalidatesMetadata)
        #expect(ErrorCode.notEnoughReplicas.isRetriable && !ErrorCode.notEnoughReplicas.invalidatesMetadata)
        #expect(!ErrorCode.offsetOutOfRange.isRetriable)
        #expect(ErrorCode.unsupportedVersion.rawValue == 35)
        #expect(ErrorCode.memberIdRequired.rawValue == 79)
        #expect(ErrorCode(rawValue: 0) == .none)
        #expect(ErrorCode(rawValue: 999).name == "UNKNOWN(999)")
    }
}

import Foundation
import KafkaRecords
import NIOCore
import Testing

/// The fixtures `scripts/make-record-fixtures.py` wrote with kafka-python's encoders.
enum Fixtures {
    struct Expected: Decodable {
        struct Record: Decodable {
            var offset: Int64
            var timestamp: Int64?
            var key: String?
            var value: String?
            var headers: [[String?]]
        }
        var magic: Int
        var codec: String
        var records: [Record]
    }

    static let manifest: [String: Expected] = {
        let url = Bundle.module.url(forResource: "manifest", withExtension: "json", subdirectory: "Fixtures")!
        return try! JSONDecoder().decode([String: Expected].self, from: Data(contentsOf: url))
    }()

    static func bytes(_ name: String) -> ByteBuffer {
        let url = Bundle.module.url(forResource: name, withExtension: "bin", subdirectory: "Fixtures")!
        return ByteBuffer(bytes: try! Data(contentsOf: url))
    }

    static func hex(_ buffer: ByteBuffer?) -> String? {
        buffer.map { $0.readableBytesView.map { String(format: "%02x", $0) }.joined() }
    }
}

@Suite struct RecordBatchTests {
    @Test(arguments: ["v2_none", "v2_gzip", "v2_snappy", "v2_lz4", "v2_zstd"])
    func readsBatchesKafkaPythonWrote(name: String) throws {
        let expected = try #require(Fixtures.manifest[name])
        let batch = try #require(try RecordSet(Fixtures.bytes(name)).batches().first)
        try batch.validate()
        #expect(try batch.attributes.compressionCodec().description == expected.codec)
        #expect(batch.recordsCount == Int32(expected.records.count))
        #expect(batch.lastOffset == Int64(expected.records.count - 1))
        #expect(batch.baseTimestamp == expected.records[0].timestamp)
        #expect(batch.maxTimestamp == expected.records.compactMap(\.timestamp).max())
        let records = try batch.records()
        for (record, want) in zip(records, expected.records) {
            #expect(batch.baseOffset + Int64(record.offsetDelta) == want.offset)
            #expect(batch.baseTimestamp + record.timestampDelta == want.timestamp)
            #expect(Fixtures.hex(record.key) == want.key)
            #expect(Fixtures.hex(record.value) == want.value)
            #expect(record.headers.map { [$0.key, Fixtures.hex($0.value)] } == want.headers)
        }
    }

    @Test func ourUncompressedBatchIsByteForByteWhatKafkaPythonWrites() throws {
        let expected = try #require(Fixtures.manifest["v2_none"])
        var builder = RecordBatchBuilder()
        builder.partitionLeaderEpoch = 0  // kafka-python writes 0 here; the Java producer -1; the broker overwrites it
        for record in expected.records {
            builder.append(
                timestamp: record.timestamp!, key: record.key.map(Self.unhex), value: record.value.map(Self.unhex),
                headers: record.headers.map { RecordHeader(key: $0[0]!, value: $0[1].map(Self.unhex)) })
        }
        #expect(try builder.build().buffer == Fixtures.bytes("v2_none"))
    }

    /// The producer's array fast path writes exactly what the general path writes: null and empty keys and values,
    /// large values (multi-byte length varints) and timestamps before the first (negative deltas).
    @Test func arrayAppendIsByteForByteTheGeneralAppend() throws {
        var general = RecordBatchBuilder()
        var fast = RecordBatchBuilder()
        fast.reserveCapacity(64)
        let cases: [(Int64, [UInt8]?, [UInt8]?)] = [
            (1_700_000_000_000, nil, Array("v".utf8)), (1_700_000_000_500, [], []), (1_699_999_999_000, Array("key".utf8), nil),
            (1_700_000_100_000, Array(repeating: 7, count: 300), Array(repeating: 9, count: 20_000)),
        ]
        for (timestamp, key, value) in cases {
            general.append(timestamp: timestamp, key: key.map { ByteBuffer(bytes: $0) }, value: value.map { ByteBuffer(bytes: $0) })
            fast.append(timestamp: timestamp, key: key, value: value)
        }
        #expect(try fast.build().buffer == general.build().buffer)
        #expect(try fast.build().records().map { $0.value.map { Array($0.readableBytesView) } } == cases.map(\.2))
    }

    static func unhex(_ text: String) -> ByteBuffer {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        return ByteBuffer(bytes: bytes)
    }

    @Test(arguments: CompressionCodec.allCases)
    func builtBatchesRoundTrip(codec: CompressionCodec) throws {
        var builder = RecordBatchBuilder(compression: codec)
        builder.producerId = 7
        builder.producerEpoch = 1
        builder.baseSequence = 100
        for index in 0..<50 {
            builder.append(
                timestamp: 1_000 + Int64(index), key: index % 3 == 0 ? nil : ByteBuffer(string: "k\(index)"),
                value: ByteBuffer(string: String(repeating: "v", count: index)),
                headers: [RecordHeader(key: "i", value: ByteBuffer(string: "\(index)"))])
        }
        let batch = try builder.build()
        try batch.validate()
        #expect(batch.recordsCount == 50 && batch.lastOffsetDelta == 49)
        #expect(batch.producerId == 7 && batch.producerEpoch == 1 && batch.baseSequence == 100)
        let records = try batch.records()
        #expect(records.count == 50)
        #expect(records[3].key == nil && records[4].key == ByteBuffer(string: "k4"))
        #expect(records[49].timestampDelta == 49 && records[49].headers == [RecordHeader(key: "i", value: ByteBuffer(string: "49"))])
    }

    @Test func offsetAndLeaderEpochLieOutsideTheCRCButAttributesDoNot() throws {
        var builder = RecordBatchBuilder()
        builder.append(timestamp: 5, key: nil, value: ByteBuffer(string: "v"))
        var batch = try builder.build()
        batch.baseOffset = 1_000
        batch.partitionLeaderEpoch = 3
        try batch.validate()
        #expect(batch.lastOffset == 1_000)
        batch.setLogAppendTime(99)
        try batch.validate()
        #expect(batch.attributes.timestampType == .logAppendTime && batch.maxTimestamp == 99)
    }

    @Test func aFlippedBitAnywhereTheCRCCoversIsCaught() throws {
        var builder = RecordBatchBuilder()
        builder.append(timestamp: 5, key: ByteBuffer(string: "key"), value: ByteBuffer(string: "value"))
        let batch = try builder.build()
        for position in 21..<batch.sizeInBytes {
            var bytes = batch.buffer
            bytes.setInteger(bytes.getInteger(at: position, as: UInt8.self)! ^ 0x01, at: position)
            guard let damaged = try? RecordBatch(bytes) else { continue }
            #expect(throws: RecordBatchError.self, "bit flip at \(position)") { try damaged.validate() }
        }
    }

    @Test func malformedBatchesAreErrors() throws {
        var builder = RecordBatchBuilder()
        builder.append(timestamp: 5, key: nil, value: ByteBuffer(string: "v"))
        let bytes = try builder.build().buffer
        #expect(throws: RecordBatchError.self) { try RecordBatch(bytes.getSlice(at: 0, length: 40)!) }
        #expect(throws: RecordBatchError.self) { try RecordBatch(bytes.getSlice(at: 0, length: bytes.readableBytes - 1)!) }
        var wrongMagic = bytes
        wrongMagic.setInteger(Int8(3), at: 16)
        #expect(throws: RecordBatchError(.unsupportedMagic, "magic 3, expected 2")) { try RecordBatch(wrongMagic) }
        var hugeCount = bytes
        hugeCount.setInteger(Int32.max, at: 57, endianness: .big)
        #expect(throws: RecordBatchError.self) { try RecordBatch(hugeCount).records() }
    }

    @Test func randomRecordBytesNeverTrap() throws {
        var generator = SystemRandomNumberGenerator()
        var builder = RecordBatchBuilder()
        for index in 0..<5 { builder.append(timestamp: Int64(index), key: ByteBuffer(string: "k"), value: ByteBuffer(string: "value")) }
        let good = try builder.build().buffer
        for _ in 0..<2000 {
            var bytes = good
            for _ in 0..<3 {
                let position = Int.random(in: 61..<bytes.readableBytes, using: &generator)
                bytes.setInteger(UInt8.random(in: 0...255, using: &generator), at: position)
            }
            _ = try? RecordBatch(bytes).records()
        }
    }

    @Test func aRecordSetReportsAPartialTailAsFetchResponsesCutIt() throws {
        var set = ByteBuffer()
        for offset in [0, 1, 2] {
            var builder = RecordBatchBuilder()
            builder.baseOffset = Int64(offset)
            builder.append(timestamp: 1, key: nil, value: ByteBuffer(string: "value-\(offset)"))
            set.writeImmutableBuffer(try builder.build().buffer)
        }
        let cut = set.getSlice(at: 0, length: set.readableBytes - 10)!
        let (entries, partial) = try RecordSet(cut).entries()
        #expect(entries.count == 2)
        #expect(partial > 0)
        #expect(throws: RecordBatchError.self) { try RecordSet(cut).batches() }
        #expect(try RecordSet(set).batches().map(\.baseOffset) == [0, 1, 2])
    }
}

@Suite struct LegacyMessageSetTests {
    @Test(arguments: ["magic0_none", "magic0_gzip", "magic0_snappy", "magic0_lz4", "magic1_none", "magic1_gzip", "magic1_snappy", "magic1_lz4"])
    func readsMessageSetsKafkaPythonWrote(name: String) throws {
        let expected = try #require(Fixtures.manifest[name])
        let (messages, partial) = try LegacyMessageSet.decode(Fixtures.bytes(name))
        #expect(partial == 0)
        #expect(messages.count == expected.records.count)
        // A producer's magic-1 wrapper carries offset 0 (the broker assigns real ones), so inner offsets come out
        // relative to it: consecutive, ending at the wrapper's offset. Other sets carry the offsets as written.
        let wrapperOffset = try #require(Fixtures.bytes(name).getInteger(at: 0, endianness: .big, as: Int64.self))
        let relative = expected.magic == 1 && expected.codec != "none"
        for (index, (message, want)) in zip(messages, expected.records).enumerated() {
            #expect(message.offset == (relative ? wrapperOffset - Int64(messages.count - 1 - index) : want.offset))
            #expect(Int(message.magic) == expected.magic)
            #expect(message.timestamp == want.timestamp)
            #expect(Fixtures.hex(message.key) == want.key)
            #expect(Fixtures.hex(message.value) == want.value)
        }
    }

    @Test(arguments: [Int8(0), 1], [CompressionCodec.none, .gzip, .snappy, .lz4])
    func encodedSetsRoundTrip(magic: Int8, codec: CompressionCodec) throws {
        typealias Message = (key: ByteBuffer?, value: ByteBuffer?, timestamp: Int64)
        let input: [Message] = (0..<20).map { (index: Int) -> Message in
            let key: ByteBuffer? = index % 2 == 0 ? nil : ByteBuffer(string: "k\(index)")
            return (key: key, value: ByteBuffer(string: "value \(index)"), timestamp: Int64(500 + index))
        }
        let encoded = try LegacyMessageSet.encode(input, magic: magic, compression: codec, baseOffset: 40)
        let (messages, _) = try LegacyMessageSet.decode(encoded)
        #expect(messages.map(\.offset) == Array(40..<60))
        #expect(messages.map { $0.value } == input.map { $0.value })
        #expect(messages.map { $0.key } == input.map { $0.key })
        #expect(messages.map { $0.timestamp } == input.map { magic == 1 ? $0.timestamp : nil })
    }

    @Test func aCorruptLegacyMessageFailsItsCRC() throws {
        var encoded = try LegacyMessageSet.encode([(key: nil, value: ByteBuffer(string: "v"), timestamp: 1)], magic: 1)
        encoded.setInteger(UInt8(0x77), at: encoded.writerIndex - 1)
        #expect(throws: RecordBatchError.self) { try LegacyMessageSet.decode(encoded) }
    }
}

@Suite struct FormatConversionTests {
    func batch(_ codec: CompressionCodec, baseOffset: Int64, values: [String], control: Bool = false) throws -> RecordBatch {
        var builder = RecordBatchBuilder(compression: codec)
        builder.baseOffset = baseOffset
        builder.isControl = control
        for (index, value) in values.enumerated() {
            builder.append(timestamp: 1_700_000_000_000 + Int64(index), key: ByteBuffer(string: "k\(index)"), value: ByteBuffer(string: value))
        }
        return try builder.build()
    }

    @Test(arguments: [Int8(0), 1], [CompressionCodec.none, .gzip, .snappy, .lz4])
    func downConversionKeepsOffsetsKeysAndValuesAsKafkaDoes(magic: Int8, codec: CompressionCodec) throws {
        let batches = [
            try self.batch(codec, baseOffset: 10, values: ["a", "b", "c"]),
            try self.batch(.none, baseOffset: 13, values: ["marker"], control: true),
            try self.batch(codec, baseOffset: 14, values: ["d"]),
        ]
        let converted = try LegacyMessageSet.downConvert(batches, toMagic: magic, fetchOffset: 11)
        let (messages, partial) = try LegacyMessageSet.decode(converted)
        #expect(partial == 0)
        #expect(messages.allSatisfy { $0.magic == magic })
        // An uncompressed batch loses the records before the fetch offset; a compressed one is sent whole.
        let expected: [(Int64, String)] = codec == .none ? [(11, "b"), (12, "c"), (14, "d")] : [(10, "a"), (11, "b"), (12, "c"), (14, "d")]
        #expect(messages.map(\.offset) == expected.map(\.0))
        #expect(messages.map { String(buffer: $0.value!) } == expected.map(\.1))
        #expect(messages.map { String(buffer: $0.key!) }.allSatisfy { $0.hasPrefix("k") })
        #expect(messages.map(\.timestamp).allSatisfy { magic == 0 ? $0 == nil : $0! >= 1_700_000_000_000 })
    }

    @Test func zstdCannotBeDownConverted() throws {
        #expect(throws: RecordBatchError.self) {
            try LegacyMessageSet.downConvert([try self.batch(.zstd, baseOffset: 0, values: ["z"])], toMagic: 1, fetchOffset: 0)
        }
    }

    @Test(arguments: [Int8(0), 1], [CompressionCodec.none, .gzip, .lz4])
    func aLegacyProduceBecomesOneV2Batch(magic: Int8, codec: CompressionCodec) throws {
        let set = try LegacyMessageSet.encode(
            [(key: nil, value: ByteBuffer(string: "x"), timestamp: 5), (key: ByteBuffer(string: "k"), value: nil, timestamp: 6)],
            magic: magic, compression: codec, baseOffset: -1)
        #expect(LegacyMessageSet.firstEntryCodec(set) == codec)
        let batch = try RecordBatch.converting(try LegacyMessageSet.decode(set).messages, compression: codec)
        try batch.validate()
        #expect(try batch.attributes.compressionCodec() == codec)
        let records = try batch.records()
        #expect(records.map { $0.value.map { String(buffer: $0) } } == ["x", nil])
        #expect(batch.baseTimestamp == (magic == 0 ? -1 : 5) && batch.maxTimestamp == (magic == 0 ? -1 : 6))
    }

    @Test func magicZeroLZ4CarriesTheOldHeaderChecksumAndStillDecodes() throws {
        let input = ByteBuffer(string: String(repeating: "lz4 ", count: 100))
        let legacy = try CompressionCodec.lz4.compress(input, legacyLZ4Checksum: true)
        let modern = try CompressionCodec.lz4.compress(input)
        #expect(legacy != modern)
        #expect(try CompressionCodec.lz4.decompress(legacy, legacyLZ4Checksum: true) == input)
    }
}

@Suite struct RecordBatchPropertyTests {
    /// Random records in random codecs: whatever goes into the builder comes out of the batch.
    @Test func randomBatchesRoundTrip() throws {
        var generator = SystemRandomNumberGenerator()
        func bytes(_ maximum: Int) -> ByteBuffer? {
            let length = Int.random(in: -1...maximum, using: &generator)
            return length < 0 ? nil : ByteBuffer(bytes: (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) })
        }
        for _ in 0..<200 {
            let codec = CompressionCodec.allCases.randomElement(using: &generator)!
            var builder = RecordBatchBuilder(compression: codec)
            builder.baseOffset = Int64.random(in: 0...1_000_000_000, using: &generator)
            let base = Int64.random(in: -1...2_000_000_000_000, using: &generator)
            var expected: [(Int64, ByteBuffer?, ByteBuffer?, [RecordHeader])] = []
            for _ in 0..<Int.random(in: 1...40, using: &generator) {
                let timestamp = base + Int64.random(in: -5000...5000, using: &generator)
                let headers = (0..<Int.random(in: 0...3, using: &generator)).map { index in
                    RecordHeader(key: "h\(index)-\(Int.random(in: 0...9, using: &generator))", value: bytes(20))
                }
                let (key, value) = (bytes(30), bytes(300))
                builder.append(timestamp: timestamp, key: key, value: value, headers: headers)
                expected.append((timestamp, key, value, headers))
            }
            let batch = try builder.build()
            try batch.validate()
            let records = try batch.records()
            #expect(records.count == expected.count)
            #expect(batch.maxTimestamp == expected.map(\.0).max())
            for (index, (record, want)) in zip(records, expected).enumerated() {
                #expect(batch.baseTimestamp + record.timestampDelta == want.0)
                #expect(Int(record.offsetDelta) == index)
                #expect(record.key == want.1 && record.value == want.2 && record.headers == want.3)
            }
        }
    }

    /// The broker's compression.type rewrite: every fixture batch kafka-python wrote, into every codec.
    @Test(arguments: ["v2_none", "v2_gzip", "v2_snappy", "v2_lz4", "v2_zstd"], CompressionCodec.allCases)
    func aRecompressedBatchKeepsItsRecordsAndProducerFields(name: String, codec: CompressionCodec) throws {
        var original = try #require(try RecordSet(Fixtures.bytes(name)).batches().first)
        original.baseOffset = 42
        let rewritten = try original.recompressed(to: codec)
        try rewritten.validate()
        #expect(try rewritten.attributes.compressionCodec() == codec)
        #expect(rewritten.baseOffset == 42 && rewritten.lastOffset == original.lastOffset)
        #expect(rewritten.baseTimestamp == original.baseTimestamp && rewritten.maxTimestamp == original.maxTimestamp)
        #expect(rewritten.producerId == original.producerId && rewritten.producerEpoch == original.producerEpoch)
        #expect(rewritten.baseSequence == original.baseSequence && rewritten.recordsCount == original.recordsCount)
        #expect(try rewritten.records() == original.records())
    }

    @Test func aRecompressedIdempotentLogAppendTimeBatchKeepsItsHeader() throws {
        var builder = RecordBatchBuilder(compression: .gzip)
        builder.producerId = 7
        builder.producerEpoch = 3
        builder.baseSequence = 100
        for index in 0..<5 {
            builder.append(timestamp: 1_000 + Int64(index), key: nil, value: ByteBuffer(string: "value \(index)"))
        }
        var original = try builder.build()
        original.setLogAppendTime(5_000)
        let rewritten = try original.recompressed(to: .none)
        #expect(rewritten.producerId == 7 && rewritten.producerEpoch == 3 && rewritten.baseSequence == 100)
        #expect(rewritten.attributes.timestampType == .logAppendTime && rewritten.maxTimestamp == 5_000)
        #expect(rewritten.sizeInBytes > original.sizeInBytes - 20)
        #expect(try rewritten.records().map(\.value) == original.records().map(\.value))
    }
}

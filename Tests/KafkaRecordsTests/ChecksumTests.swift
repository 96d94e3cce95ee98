import CFerryChecksums
import KafkaRecords
import NIOCore
import Testing

@Suite struct ChecksumTests {
    private func crc(_ bytes: [UInt8]) -> UInt32 { CRC32C.checksum(ByteBuffer(bytes: bytes)) }

    @Test func crc32cMatchesRFC3720AndTheStandardCheckValue() {
        #expect(self.crc(Array("123456789".utf8)) == 0xE306_9283)
        #expect(self.crc([]) == 0)
        #expect(self.crc(Array(repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(self.crc(Array(repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(self.crc(Array(0...31)) == 0x46DD_794E)
        #expect(self.crc(Array((0...31).reversed())) == 0x113F_DB5C)
    }

    @Test func hardwareAndSoftwarePathsAgreeAtEveryLengthAndAlignment() {
        var generator = SystemRandomNumberGenerator()
        // Long enough for the three-stream paths (3 x 8192 and 3 x 256 bytes) and their remainders.
        let data = (0..<60_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        data.withUnsafeBytes { bytes in
            for start in 0..<9 {
                for length in [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 767, 768, 769, 1000, 4000, 24_575, 24_576, 24_577, 25_400, 59_000] where start + length <= bytes.count {
                    let slice = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + length)])
                    #expect(ferry_crc32c(0, slice.baseAddress, length) == ferry_crc32c_software(0, slice.baseAddress, length))
                }
            }
            // Continuing a CRC equals computing it in one go.
            let whole = CRC32C.checksum(bytes)
            let first = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<1000]))
            #expect(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[1000...]), continuing: first) == whole)
        }
    }

    @Test func xxh32MatchesTheReferenceVectors() {
        #expect(ferry_xxh32(nil, 0, 0) == 0x02CC_5D05)
        #expect(Array("abc".utf8).withUnsafeBytes { ferry_xxh32($0.baseAddress, 3, 0) } == 0x32D1_53FF)
        let long = Array("Nobody inspects the spammish repetition".utf8)
        #expect(long.withUnsafeBytes { ferry_xxh32($0.baseAddress, long.count, 0) } == 0xE229_3B2F)
    }

    @Test func crc32IsZlibs() {
        #expect(CRC32.checksum(ByteBuffer(bytes: Array("123456789".utf8))) == 0xCBF4_3926)
    }
}

@Suite struct CompressionTests {
    static let payloads: [[UInt8]] = {
        var generator = SystemRandomNumberGenerator()
        return [
            [], [42], Array("hello kafka ".utf8),
            Array(String(repeating: "compressible text ", count: 5000).utf8),
            (0..<200_000).map { _ in UInt8.random(in: 0...255, using: &generator) },
        ]
    }()

    @Test(arguments: CompressionCodec.allCases)
    func everyCodecRoundTrips(codec: CompressionCodec) throws {
        for payload in Self.payloads {
            let compressed = try codec.compress(ByteBuffer(bytes: payload))
            let restored = try codec.decompress(compressed)
            #expect(Array(restored.readableBytesView) == payload, "\(codec) \(payload.count) bytes")
        }
    }

    @Test(arguments: [CompressionCodec.gzip, .snappy, .lz4, .zstd])
    func aDecompressionBombIsAnErrorNotAnAllocation(codec: CompressionCodec) throws {
        let bomb = try codec.compress(ByteBuffer(repeating: 0, count: 4 << 20))
        #expect(throws: CompressionError.self) { try codec.decompress(bomb, maxOutputBytes: 1 << 20) }
    }

    @Test(arguments: [CompressionCodec.gzip, .snappy, .lz4, .zstd])
    func corruptOrTruncatedInputIsAnError(codec: CompressionCodec) throws {
        let good = try codec.compress(ByteBuffer(bytes: Array(String(repeating: "abc", count: 1000).utf8)))
        #expect(throws: (any Error).self) { try codec.decompress(good.getSlice(at: 0, length: good.readableBytes / 2)!) }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let noise = ByteBuffer(bytes: (0..<Int.random(in: 0...300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) })
            _ = try? codec.decompress(noise, maxOutputBytes: 1 << 20)  // must not trap
        }
    }

    @Test func snappyReadsPlainBlocksAsLibrdkafkaWritesThem() throws {
        // A raw snappy block: uncompressed length 5, then one literal of 5 bytes.
        let raw = ByteBuffer(bytes: [0x05, 0x10, 0x68, 0x65, 0x6C, 0x6C, 0x6F])
        #expect(String(buffer: try CompressionCodec.snappy.decompress(raw)) == "hello")
        // What we write is the xerial framing the Java client writes.
        let framed = try CompressionCodec.snappy.compress(ByteBuffer(string: "hello"))
        #expect(Array(framed.readableBytesView.prefix(8)) == [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00])
    }

    @Test func codecNamesAreKafkas() {
        #expect(CompressionCodec(name: "ZSTD") == .zstd)
        #expect(CompressionCodec(name: "uncompressed") == CompressionCodec.none)
        #expect(CompressionCodec(name: "brotli") == nil)
        #expect(CompressionCodec.lz4.description == "lz4")
    }
}

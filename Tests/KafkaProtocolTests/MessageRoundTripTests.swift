import KafkaModel
import KafkaProtocol
import NIOCore
import Testing

/// Every generated message at every version it defines: encode, decode, compare, encode again.
@Suite struct MessageRoundTripTests {
    @Test func everyMessageRoundTripsAtEveryVersion() throws {
        var cases = 0
        for type in allGeneratedMessages {
            cases += try Self.roundTripAllVersions(type)
        }
        #expect(cases > 600)
    }

    /// Opens the existential so the generic round trip can run.
    private static func roundTripAllVersions<M: KafkaMessage & SampleProviding>(_ type: M.Type) throws -> Int {
        var cases = 0
        for version in M.validVersions {
            for nulls in [false, true] {
                let sample = M.sample(version: version, nulls: nulls)
                var writer = KafkaWriter()
                try sample.encode(to: &writer, version: version)
                let bytes = writer.buffer
                var reader = KafkaReader(bytes)
                let decoded = try M(from: &reader, version: version)
                #expect(decoded == sample, "\(M.self) v\(version) nulls=\(nulls)")
                #expect(reader.readableBytes == 0, "\(M.self) v\(version) left \(reader.readableBytes) bytes")
                var again = KafkaWriter()
                try decoded.encode(to: &again, version: version)
                #expect(again.buffer == bytes, "\(M.self) v\(version) re-encodes differently")
                cases += 1
            }
        }
        return cases
    }

    @Test func truncatedInputIsAnErrorNamingAField() throws {
        for type in allGeneratedMessages { try Self.truncations(type) }
    }

    private static func truncations<M: KafkaMessage & SampleProviding>(_ type: M.Type) throws {
        for version in [M.validVersions.lowerBound, M.validVersions.upperBound] {
            var writer = KafkaWriter()
            try M.sample(version: version, nulls: false).encode(to: &writer, version: version)
            let bytes = writer.buffer
            let stride = max(1, bytes.readableBytes / 40)
            for cut in Swift.stride(from: 0, to: bytes.readableBytes, by: stride) {
                var reader = KafkaReader(bytes.getSlice(at: bytes.readerIndex, length: cut)!)
                #expect(throws: KafkaProtocolError.self, "\(M.self) v\(version) cut at \(cut)") {
                    _ = try M(from: &reader, version: version)
                }
            }
        }
    }

    @Test func randomBytesNeverTrap() {
        var generator = SeededGenerator(seed: 0x5EED)
        var decoded = 0
        for type in allGeneratedMessages {
            decoded += Self.fuzz(type, using: &generator)
        }
        // Most random inputs are rejected; the point is that none crashes or hangs.
        #expect(decoded >= 0)
    }

    private static func fuzz<M: KafkaMessage & SampleProviding>(_ type: M.Type, using generator: inout SeededGenerator) -> Int {
        var accepted = 0
        for version in M.validVersions {
            var sample = KafkaWriter()
            try? M.sample(version: version, nulls: false).encode(to: &sample, version: version)
            let valid = Array(sample.buffer.readableBytesView)
            for round in 0..<20 {
                var bytes: [UInt8]
                if round % 2 == 0 || valid.isEmpty {
                    bytes = (0..<Int.random(in: 0...64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                } else {
                    // Mutate a valid encoding: a few flipped bytes hit lengths and counts.
                    bytes = valid
                    for _ in 0..<3 { bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator) }
                }
                var reader = KafkaReader(ByteBuffer(bytes: bytes))
                if (try? M(from: &reader, version: version)) != nil { accepted += 1 }
            }
        }
        return accepted
    }

    @Test func nonIgnorableFieldThatAVersionCannotCarryIsAnError() throws {
        var request = FetchRequest()
        request.forgottenTopicsData = [.init(topic: "t", partitions: [1])]
        var writer = KafkaWriter()
        #expect(throws: KafkaProtocolError(.fieldNotInVersion(6), field: "FetchRequest.ForgottenTopicsData")) {
            try request.encode(to: &writer, version: 6)
        }
        // An ignorable one is dropped silently, as Kafka does.
        var metadata = MetadataResponse()
        metadata.clusterId = "cluster"
        try metadata.encode(to: &writer, version: 1)
    }

    @Test func nullWhereTheVersionForbidsItIsAnError() {
        var request = MetadataRequest()
        request.topics = nil  // "all topics" exists only from v1
        var writer = KafkaWriter()
        #expect(throws: KafkaProtocolError(.unexpectedNull, field: "Topics")) { try request.encode(to: &writer, version: 0) }
    }
}

/// A small deterministic generator so fuzz failures reproduce.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { self.state = seed }
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

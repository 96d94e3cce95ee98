import Foundation
import KafkaModel
import KafkaProtocol
import NIOCore
import Testing

/// Frames real clients exchanged with a peer broker, captured by scripts/capture-golden.sh into
/// Fixtures/golden/<api>_<request|response>_v<version>_<client>.bin (the frame after its size prefix).
struct GoldenFrame: CustomStringConvertible, Sendable {
    var file: String
    var apiKey: ApiKey
    var isRequest: Bool
    var version: Int16
    var client: String
    var bytes: ByteBuffer

    var description: String { self.file }

    static let all: [GoldenFrame] = {
        guard let directory = Bundle.module.url(forResource: "golden", withExtension: nil, subdirectory: "Fixtures"),
              let files = try? FileManager.default.contentsOfDirectory(atPath: directory.path)
        else { return [] }
        let keysBySnakeName = Dictionary(uniqueKeysWithValues: ApiKey.allCases.map { (Self.snake($0.name), $0) })
        return files.sorted().compactMap { file in
            guard file.hasSuffix(".bin") else { return nil }
            let parts = file.dropLast(4).components(separatedBy: "_")
            guard let kindIndex = parts.firstIndex(where: { $0 == "request" || $0 == "response" }),
                  kindIndex + 2 < parts.count + 1, parts[kindIndex + 1].hasPrefix("v"),
                  let version = Int16(parts[kindIndex + 1].dropFirst()),
                  let key = keysBySnakeName[parts[..<kindIndex].joined(separator: "_")],
                  let data = FileManager.default.contents(atPath: directory.appendingPathComponent(file).path)
            else { return nil }
            return GoldenFrame(
                file: file, apiKey: key, isRequest: parts[kindIndex] == "request", version: version,
                client: parts[(kindIndex + 2)...].joined(separator: "_"), bytes: ByteBuffer(bytes: data))
        }
    }()

    static func snake(_ name: String) -> String {
        var result = ""
        for (index, character) in name.enumerated() {
            if character.isUppercase && index > 0 { result += "_" }
            result += character.lowercased()
        }
        return result
    }
}

@Suite struct GoldenFrameTests {
    @Test func fixturesCoverTheTargetClientsOldAndFlexibleVersions() {
        let clients = Set(GoldenFrame.all.map(\.client))
        #expect(clients.isSuperset(of: ["kafka-python", "kafka-python-2.0.2", "librdkafka", "kcat", "aiokafka"]))
        #expect(GoldenFrame.all.contains { $0.apiKey == .produce && $0.version == 7 })
        #expect(GoldenFrame.all.contains { $0.apiKey == .fetch && $0.version >= 12 })
        #expect(GoldenFrame.all.count >= 100)
    }

    @Test(arguments: GoldenFrame.all)
    func decodesAndReencodesByteForByte(frame: GoldenFrame) throws {
        let type = ApiMessageType.requestType(frame.apiKey)
        guard type.validVersions.contains(frame.version) else {
            // Newer than Kafka 3.7 defines: the peer advertised it and kafka-python 3 negotiated up. Ferry's broker
            // advertises 3.7's ranges, so clients never send these to it.
            #expect(frame.client == "kafka-python", "\(frame) is beyond Kafka 3.7's versions")
            return
        }
        if frame.isRequest {
            let parsed = try KafkaRequestFrame(parsing: frame.bytes)
            #expect(parsed.apiKey == frame.apiKey && parsed.version == frame.version)
            let encoded = try Self.reencodeRequest(type, parsed)
            #expect(encoded == frame.bytes, "\(frame) re-encodes differently")
        } else if Self.peerWritesDefaultTaggedFields.contains(frame.file) {
            // The peer writes tagged fields that hold their default; Kafka (and Ferry) omit them. The decoded
            // message must survive our canonical encoding unchanged, and that encoding is strictly shorter.
            let encoded = try Self.reencodeResponse(type, frame)
            #expect(encoded.readableBytes < frame.bytes.readableBytes)
            let again = GoldenFrame(file: frame.file, apiKey: frame.apiKey, isRequest: false, version: frame.version, client: frame.client, bytes: encoded)
            #expect(try Self.reencodeResponse(type, again) == encoded)
            #expect(try Self.decodedResponsesEqual(type, frame.bytes, encoded, version: frame.version))
        } else {
            let encoded = try Self.reencodeResponse(type, frame)
            #expect(encoded == frame.bytes, "\(frame) re-encodes differently")
        }
    }

    /// Peer (Tansu) responses that spell out default-valued tagged fields: CreateTopics v7 writes
    /// TopicConfigErrorCode = 0, ApiVersions v3 writes empty SupportedFeatures/FinalizedFeatures, epoch -1 and
    /// ZkMigrationReady = false, Fetch v16 writes default CurrentLeader/NodeEndpoints.
    static let peerWritesDefaultTaggedFields: Set<String> = [
        "create_topics_response_v7_kafka-python.bin",
        "api_versions_response_v3_librdkafka.bin",
        "fetch_response_v16_librdkafka.bin",
    ]

    private static func decodedResponsesEqual<Request: KafkaRequest>(
        _ type: Request.Type, _ first: ByteBuffer, _ second: ByteBuffer, version: Int16
    ) throws -> Bool {
        try KafkaResponseDecoder.decode(first, as: Request.Response.self, version: version).response
            == KafkaResponseDecoder.decode(second, as: Request.Response.self, version: version).response
    }

    private static func reencodeRequest<Request: KafkaRequest>(_ type: Request.Type, _ parsed: KafkaRequestFrame) throws -> ByteBuffer {
        let body = try parsed.decodeBody(as: Request.self)
        var writer = KafkaWriter()
        try parsed.header.encode(to: &writer, version: ApiMessageType.requestHeaderVersion(Request.apiKey, version: parsed.version))
        try body.encode(to: &writer, version: parsed.version)
        return writer.buffer
    }

    private static func reencodeResponse<Request: KafkaRequest>(_ type: Request.Type, _ frame: GoldenFrame) throws -> ByteBuffer {
        let (correlationId, response) = try KafkaResponseDecoder.decode(frame.bytes, as: Request.Response.self, version: frame.version)
        var framed = ByteBuffer()
        try KafkaFrameEncoder.encodeResponse(response, version: frame.version, correlationId: correlationId, into: &framed)
        framed.moveReaderIndex(forwardBy: 4)
        return framed
    }

    @Test func aKafkaPythonProduceRequestCarriesWhatItSent() throws {
        let frame = try #require(GoldenFrame.all.first { $0.apiKey == .produce && $0.isRequest && $0.client == "kafka-python_magic2-gzip" })
        let request = try KafkaRequestFrame(parsing: frame.bytes).decodeBody(as: ProduceRequest.self)
        #expect(request.acks == -1)
        #expect(request.topicData.first?.name == "golden-kp3")
        #expect(request.topicData.first?.partitionData.first?.records != nil)
    }
}

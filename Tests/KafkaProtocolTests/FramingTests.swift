import KafkaModel
import KafkaProtocol
import NIOCore
import Testing

@Suite struct FramingTests {
    @Test func headerVersionsFollowKafkasRules() {
        #expect(ApiMessageType.requestHeaderVersion(.produce, version: 8) == 1)
        #expect(ApiMessageType.requestHeaderVersion(.produce, version: 9) == 2)
        #expect(ApiMessageType.requestHeaderVersion(.controlledShutdown, version: 0) == 0)
        #expect(ApiMessageType.requestHeaderVersion(.controlledShutdown, version: 1) == 1)
        #expect(ApiMessageType.responseHeaderVersion(.metadata, version: 9) == 1)
        #expect(ApiMessageType.responseHeaderVersion(.apiVersions, version: 3) == 0)
        #expect(ApiKey.allCases.count == 62)
        #expect(ApiKey.apiVersions.description == "ApiVersions(18)")
    }

    @Test func aRequestFrameRoundTripsThroughTheEncoderAndParser() throws {
        for version in MetadataRequest.validVersions {
            // AllowAutoTopicCreation is not ignorable: versions before 4 can only carry its default.
            let request = MetadataRequest(topics: [.init(name: "orders")], allowAutoTopicCreation: version < 4)
            var buffer = ByteBuffer()
            try KafkaFrameEncoder.encodeRequest(request, version: version, correlationId: 77, clientId: "ferry", into: &buffer)
            var decoder = KafkaFrameDecoder()
            let frame = try #require(try decoder.decode(buffer: &buffer))
            #expect(buffer.readableBytes == 0)
            let parsed = try KafkaRequestFrame(parsing: frame)
            #expect(parsed.apiKey == .metadata)
            #expect(parsed.correlationId == 77)
            #expect(parsed.header.clientId == "ferry")
            let body = try parsed.decodeBody(as: MetadataRequest.self)
            #expect(body.topics?.first?.name == "orders")
            #expect(body.allowAutoTopicCreation == (version < 4))
        }
    }

    @Test func aResponseFrameUsesTheHeaderVersionOfItsApi() throws {
        var buffer = ByteBuffer()
        let response = ApiVersionsResponse(errorCode: 35, apiKeys: [.init(apiKey: 18, minVersion: 0, maxVersion: 3)])
        try KafkaFrameEncoder.encodeResponse(response, version: 3, correlationId: 5, into: &buffer)
        // ApiVersions answers with response header v0: size, correlation id, then the body.
        #expect(buffer.getInteger(at: 4, as: Int32.self) == 5)
        #expect(buffer.getInteger(at: 8, as: Int16.self) == 35)
        buffer.moveReaderIndex(forwardBy: 4)
        let (correlationId, decoded) = try KafkaResponseDecoder.decode(buffer, as: ApiVersionsResponse.self, version: 3)
        #expect(correlationId == 5)
        #expect(decoded == response)
    }

    @Test func theFrameDecoderWaitsForWholeFramesFedOneByteAtATime() throws {
        var stream = ByteBuffer()
        for id in 0..<3 {
            try KafkaFrameEncoder.encodeRequest(
                HeartbeatRequest(groupId: "g", generationId: Int32(id), memberId: "m"), version: 1, correlationId: Int32(id),
                clientId: nil, into: &stream)
        }
        var decoder = KafkaFrameDecoder()
        var input = ByteBuffer()
        var frames: [ByteBuffer] = []
        for byte in stream.readableBytesView {
            input.writeInteger(byte)
            while let frame = try decoder.decode(buffer: &input) { frames.append(frame) }
        }
        #expect(frames.count == 3)
        #expect(try frames.map { try KafkaRequestFrame(parsing: $0).correlationId } == [0, 1, 2])
    }

    @Test func oversizedAndNegativeFramesAreRejectedBeforeBuffering() {
        var decoder = KafkaFrameDecoder(maxFrameBytes: 1024)
        var huge = ByteBuffer(bytes: [0x00, 0x00, 0x04, 0x01])
        #expect(throws: KafkaProtocolError(.invalidFrameSize(1025, limit: 1024), field: "frame size")) {
            try decoder.decode(buffer: &huge)
        }
        var negative = ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF])
        #expect(throws: KafkaProtocolError.self) { try decoder.decode(buffer: &negative) }
    }

    @Test func unknownApiKeysAndUnsupportedVersionsAreNamed() throws {
        var frame = ByteBuffer(bytes: [0x00, 0x63, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01])
        #expect(throws: KafkaProtocolError(.unknownApiKey(99), field: "RequestHeader.RequestApiKey")) {
            try KafkaRequestFrame(parsing: frame)
        }
        frame = ByteBuffer()
        var writer = KafkaWriter(frame)
        try RequestHeader(requestApiKey: 0, requestApiVersion: 42, correlationId: 1, clientId: nil).encode(to: &writer, version: 2)
        let parsed = try KafkaRequestFrame(parsing: writer.buffer)
        #expect(parsed.version == 42)
        #expect(throws: KafkaProtocolError(.unsupportedVersion(42), field: "ProduceRequest")) {
            try parsed.decodeBody(as: ProduceRequest.self)
        }
    }
}

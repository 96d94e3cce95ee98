import KafkaModel
import NIOCore

/// Splits a byte stream into Kafka frames: an int32 size, then that many bytes.
///
/// Returns `nil` without consuming anything while a frame is incomplete. A size that is negative or above
/// `maxFrameBytes` (the broker's `socket.request.max.bytes`) is rejected before any byte of the frame is
/// buffered, so an oversized request costs nothing but its connection.
public struct KafkaFrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    public let maxFrameBytes: Int32

    public init(maxFrameBytes: Int32 = 104_857_600) {
        self.maxFrameBytes = maxFrameBytes
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> ByteBuffer? {
        guard let size = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: Int32.self) else { return nil }
        guard size >= 0, size <= self.maxFrameBytes else {
            throw KafkaProtocolError(.invalidFrameSize(Int64(size), limit: Int64(self.maxFrameBytes)), field: "frame size")
        }
        guard buffer.readableBytes >= 4 + Int(size) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        return buffer.readSlice(length: Int(size))
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ByteBuffer? {
        try self.decode(buffer: &buffer)
    }
}

/// One request as it arrived: its header and the undecoded body.
public struct KafkaRequestFrame: Sendable {
    public var header: RequestHeader
    public var apiKey: ApiKey
    /// The body, positioned after the header; decode it with `decodeBody(as:)`.
    public var body: ByteBuffer

    public var version: Int16 { self.header.requestApiVersion }
    public var correlationId: Int32 { self.header.correlationId }

    /// Parses the header of a request frame (the bytes after the size prefix).
    ///
    /// Works for any version number of a known API, so a broker can answer versions it does not support.
    /// - Throws: `KafkaProtocolError` for an unknown API key (`.unknownApiKey`) or a truncated header.
    public init(parsing frame: ByteBuffer) throws {
        guard let key = frame.getInteger(at: frame.readerIndex, endianness: .big, as: Int16.self),
              let version = frame.getInteger(at: frame.readerIndex + 2, endianness: .big, as: Int16.self)
        else { throw KafkaProtocolError(.truncated, field: "RequestHeader") }
        guard let apiKey = ApiKey(rawValue: key) else {
            throw KafkaProtocolError(.unknownApiKey(key), field: "RequestHeader.RequestApiKey")
        }
        var reader = KafkaReader(frame)
        self.header = try RequestHeader(
            from: &reader, version: ApiMessageType.requestHeaderVersion(apiKey, version: version))
        self.apiKey = apiKey
        self.body = reader.buffer
    }

    /// Decodes the body as `Request` at the header's version.
    /// - Throws: `.unsupportedVersion` if `Request` has no such version; `KafkaProtocolError` for a bad body.
    public func decodeBody<Request: KafkaRequest>(as type: Request.Type = Request.self) throws -> Request {
        guard Request.validVersions.contains(self.version) else {
            throw KafkaProtocolError(.unsupportedVersion(self.version), field: "\(Request.self)")
        }
        var reader = KafkaReader(self.body)
        return try Request(from: &reader, version: self.version)
    }
}

/// Builds complete frames (size prefix, header, body) for requests and responses.
public enum KafkaFrameEncoder {
    /// Appends a request frame to `buffer`.
    public static func encodeRequest<Request: KafkaRequest>(
        _ request: Request,
        version: Int16,
        correlationId: Int32,
        clientId: String?,
        into buffer: inout ByteBuffer
    ) throws {
        try self.framed(into: &buffer) { writer in
            let header = RequestHeader(
                requestApiKey: Request.apiKey.rawValue, requestApiVersion: version, correlationId: correlationId,
                clientId: clientId)
            try header.encode(to: &writer, version: ApiMessageType.requestHeaderVersion(Request.apiKey, version: version))
            try request.encode(to: &writer, version: version)
        }
    }

    /// Appends a response frame to `buffer`, with the header version the API and version call for.
    public static func encodeResponse<Response: KafkaResponse>(
        _ response: Response,
        version: Int16,
        correlationId: Int32,
        into buffer: inout ByteBuffer
    ) throws {
        try self.framed(into: &buffer) { writer in
            let header = ResponseHeader(correlationId: correlationId)
            try header.encode(to: &writer, version: ApiMessageType.responseHeaderVersion(Response.apiKey, version: version))
            try response.encode(to: &writer, version: version)
        }
    }

    /// Writes a size placeholder, lets `body` write the frame, then fills in the size. On error the buffer is
    /// left as it was.
    private static func framed(into buffer: inout ByteBuffer, _ body: (inout KafkaWriter) throws -> Void) throws {
        let start = buffer.writerIndex
        buffer.writeInteger(Int32(0), endianness: .big)
        var writer = KafkaWriter(buffer)
        buffer = ByteBuffer()  // hand the storage to the writer without copying
        do {
            try body(&writer)
        } catch {
            writer.buffer.moveWriterIndex(to: start)
            buffer = writer.buffer
            throw error
        }
        buffer = writer.buffer
        buffer.setInteger(Int32(buffer.writerIndex - start - 4), at: start, endianness: .big)
    }
}

/// Decodes response frames on the client side, where the caller knows which request a correlation id answers.
public enum KafkaResponseDecoder {
    /// The correlation id of a response frame, read without decoding anything else.
    public static func correlationId(of frame: ByteBuffer) -> Int32? {
        frame.getInteger(at: frame.readerIndex, endianness: .big, as: Int32.self)
    }

    /// Decodes a response frame (after the size prefix) as `Response` at `version`.
    public static func decode<Response: KafkaResponse>(
        _ frame: ByteBuffer,
        as type: Response.Type = Response.self,
        version: Int16
    ) throws -> (correlationId: Int32, response: Response) {
        var reader = KafkaReader(frame)
        let header = try ResponseHeader(
            from: &reader, version: ApiMessageType.responseHeaderVersion(Response.apiKey, version: version))
        return (header.correlationId, try Response(from: &reader, version: version))
    }
}

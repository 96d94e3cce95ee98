import KafkaModel
import KafkaProtocol
import LogStorage
import Logging
import NIOCore

/// Who sent a request and how.
public struct RequestContext: Sendable {
    public var apiKey: ApiKey
    public var version: Int16
    public var correlationId: Int32
    public var clientId: String?
    /// The peer's address, for log lines.
    public var peer: String
}

/// One Kafka API: the versions it serves and how it answers. Each handler file opens with a comment listing its
/// behaviour and its deviations from Kafka.
protocol KafkaRequestHandler: Sendable {
    associatedtype Request: KafkaRequest
    static var versions: ClosedRange<Int16> { get }
    /// - Returns: the response, or `nil` when the API sends none (Produce with acks=0).
    func handle(_ request: Request, context: RequestContext) async throws -> Request.Response?
}

/// A handler that writes its response as parts, some of them regions of log files sent with `sendfile` (Fetch).
protocol KafkaPartsHandler: Sendable {
    associatedtype Request: KafkaRequest
    static var versions: ClosedRange<Int16> { get }
    /// - Returns: the whole response frame (size prefix and header included) as parts.
    func handle(_ request: Request, context: RequestContext) async throws -> [ResponsePart]
}

/// A piece of a response frame: bytes, or a region of a log file.
enum ResponsePart: Sendable {
    case bytes(ByteBuffer)
    case file(LogReadSlice)

    var count: Int {
        switch self {
        case .bytes(let buffer): buffer.readableBytes
        case .file(let slice): slice.length
        }
    }
}

/// What to do with a connection after a request.
enum RouteOutcome {
    case respond([ResponsePart])
    case noResponse
    /// Close the connection, as Kafka does for unknown APIs, unsupported versions and malformed requests.
    case close(String)
}

/// Dispatches request frames to the handlers by API key. ApiVersions is derived from the registered handlers,
/// so the broker advertises exactly what it implements.
struct RequestRouter: Sendable {
    private struct Entry: Sendable {
        var versions: ClosedRange<Int16>
        var run: @Sendable (KafkaRequestFrame, RequestContext) async throws -> [ResponsePart]?
    }

    private var entries: [ApiKey: Entry] = [:]

    /// Registers ApiVersions last, with the ranges of everything registered before (and its own).
    mutating func registerApiVersions() {
        let handler = ApiVersionsHandler(supported: (self.supportedVersions + [(.apiVersions, ApiVersionsHandler.versions)])
            .sorted { $0.key.rawValue < $1.key.rawValue })
        self.apiVersions = handler
        self.register(handler)
    }

    private var apiVersions: ApiVersionsHandler?

    mutating func register<Handler: KafkaRequestHandler>(_ handler: Handler) {
        self.entries[Handler.Request.apiKey] = Entry(versions: Handler.versions) { frame, context in
            let request = try frame.decodeBody(as: Handler.Request.self)
            guard let response = try await handler.handle(request, context: context) else { return nil }
            var buffer = ByteBuffer()
            try KafkaFrameEncoder.encodeResponse(response, version: context.version, correlationId: context.correlationId, into: &buffer)
            return [.bytes(buffer)]
        }
    }

    mutating func register<Handler: KafkaPartsHandler>(_ handler: Handler) {
        self.entries[Handler.Request.apiKey] = Entry(versions: Handler.versions) { frame, context in
            try await handler.handle(try frame.decodeBody(as: Handler.Request.self), context: context)
        }
    }

    /// The advertised API version ranges, by key.
    var supportedVersions: [(key: ApiKey, versions: ClosedRange<Int16>)] {
        self.entries.map { ($0.key, $0.value.versions) }.sorted { $0.key.rawValue < $1.key.rawValue }
    }

    func route(_ bytes: ByteBuffer, peer: String) async -> RouteOutcome {
        let frame: KafkaRequestFrame
        do {
            frame = try KafkaRequestFrame(parsing: bytes)
        } catch {
            return .close("unreadable request header: \(error)")
        }
        let context = RequestContext(
            apiKey: frame.apiKey, version: frame.version, correlationId: frame.correlationId, clientId: frame.header.clientId,
            peer: peer)
        guard let entry = self.entries[frame.apiKey] else {
            return .close("\(frame.apiKey) is not supported")
        }
        if frame.apiKey == .apiVersions, !entry.versions.contains(frame.version), let apiVersions = self.apiVersions {
            // KIP-511: a version we do not know gets UNSUPPORTED_VERSION, as a v0 body any client can read.
            var buffer = ByteBuffer()
            do {
                try KafkaFrameEncoder.encodeResponse(
                    apiVersions.response(errorCode: .unsupportedVersion), version: 0, correlationId: frame.correlationId, into: &buffer)
            } catch {
                return .close("cannot encode the ApiVersions error reply: \(error)")
            }
            return .respond([.bytes(buffer)])
        }
        guard entry.versions.contains(frame.version) else {
            return .close("\(frame.apiKey) v\(frame.version) is not supported (\(entry.versions))")
        }
        do {
            return try await entry.run(frame, context).map { .respond($0) } ?? .noResponse
        } catch {
            return .close("\(frame.apiKey) v\(frame.version) request failed: \(error)")
        }
    }
}

import KafkaModel
import KafkaProtocol
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Why a request to a broker got no response.
public struct BrokerConnectionError: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// One TCP connection to a Kafka broker. Requests may be sent from any task and pipelined; Kafka answers each
/// connection in order, so responses are matched first-in first-out and checked by correlation id. A failed or
/// closed connection fails every request waiting on it; make a new one to go on.
public final class BrokerConnection: Sendable {
    private let channel: any Channel
    private let clientId: String
    private let nextCorrelationId = Mutex<Int32>(0)

    private init(channel: any Channel, clientId: String) {
        self.channel = channel
        self.clientId = clientId
    }

    /// Connects to `host:port`.
    public static func connect(
        host: String, port: Int, clientId: String, connectTimeout: TimeAmount = .seconds(5), maxResponseBytes: Int32 = Int32.max
    ) async throws -> BrokerConnection {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(KafkaFrameDecoder(maxFrameBytes: maxResponseBytes)))
                    try channel.pipeline.syncOperations.addHandler(ResponseMatcher())
                }
            }
            .connect(host: host, port: port).get()
        return BrokerConnection(channel: channel, clientId: clientId)
    }

    /// Whether the connection is still open.
    public var isActive: Bool { self.channel.isActive }

    /// Sends `request` at `version` and returns the response.
    /// - Throws: `BrokerConnectionError` if the connection fails or closes first; decoding errors.
    public func send<Request: KafkaRequest>(_ request: Request, version: Int16) async throws -> Request.Response {
        let correlationId = self.nextCorrelationId.withLock { id in
            defer { id = id == Int32.max ? 0 : id + 1 }
            return id
        }
        var frame = ByteBuffer()
        try KafkaFrameEncoder.encodeRequest(request, version: version, correlationId: correlationId, clientId: self.clientId, into: &frame)
        let response = self.channel.eventLoop.makePromise(of: ByteBuffer.self)
        self.channel.writeAndFlush(PendingRequest(frame: frame, correlationId: correlationId, response: response)).whenFailure { error in
            response.fail(error)
        }
        let bytes = try await response.futureResult.get()
        return try KafkaResponseDecoder.decode(bytes, as: Request.Response.self, version: version).response
    }

    /// Sends `request` without waiting for an answer: Kafka sends none to a Produce with acks=0. Returns once written.
    public func sendOneWay<Request: KafkaRequest>(_ request: Request, version: Int16) async throws {
        let correlationId = self.nextCorrelationId.withLock { id in
            defer { id = id == Int32.max ? 0 : id + 1 }
            return id
        }
        var frame = ByteBuffer()
        try KafkaFrameEncoder.encodeRequest(request, version: version, correlationId: correlationId, clientId: self.clientId, into: &frame)
        try await self.channel.writeAndFlush(PendingRequest(frame: frame, correlationId: correlationId, response: nil))
    }

    public func close() async {
        try? await self.channel.close()
    }
}

/// A request on its way out, with the promise its response will complete.
struct PendingRequest: Sendable {
    var frame: ByteBuffer
    var correlationId: Int32
    /// `nil` for a request the broker does not answer.
    var response: EventLoopPromise<ByteBuffer>?
}

/// Writes requests and hands each response frame to the oldest waiting request (Kafka answers in order).
private final class ResponseMatcher: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = PendingRequest
    typealias OutboundOut = ByteBuffer

    private var waiting = CircularBuffer<PendingRequest>()

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = Self.unwrapOutboundIn(data)
        if request.response != nil { self.waiting.append(request) }
        context.write(Self.wrapOutboundOut(request.frame), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        guard let request = self.waiting.popFirst() else {
            self.failAll(context, BrokerConnectionError("a response arrived for no request"))
            return
        }
        guard KafkaResponseDecoder.correlationId(of: frame) == request.correlationId else {
            request.response?.fail(BrokerConnectionError("response out of order (expected correlation id \(request.correlationId))"))
            self.failAll(context, BrokerConnectionError("responses out of order"))
            return
        }
        request.response?.succeed(frame)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.failAll(context, error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.failAll(context, BrokerConnectionError("connection closed"))
        context.fireChannelInactive()
    }

    private func failAll(_ context: ChannelHandlerContext, _ error: any Error) {
        while let request = self.waiting.popFirst() { request.response?.fail(error) }
        context.close(promise: nil)
    }
}

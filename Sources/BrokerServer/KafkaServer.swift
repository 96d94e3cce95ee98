import KafkaProtocol
import Logging
import NIOCore
import NIOPosix

/// The Kafka listener: accepts connections and serves each with one sequential request loop, so responses
/// leave in request order even when clients pipeline (Kafka mutes a channel until its response is sent; the
/// loop is the same guarantee). Frames above `socket.request.max.bytes` are refused before they are buffered;
/// a malformed request closes that connection only, with a log line naming the peer.
final class KafkaServer: Sendable {
    private let router: RequestRouter
    private let maxFrameBytes: Int32
    private let logger: Logger
    private let listener: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>

    /// The bound address (the port is the real one when 0 was asked for).
    var localAddress: SocketAddress? { self.listener.channel.localAddress }

    private init(router: RequestRouter, maxFrameBytes: Int32, logger: Logger, listener: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>) {
        self.router = router
        self.maxFrameBytes = maxFrameBytes
        self.logger = logger
        self.listener = listener
    }

    /// Binds the listener.
    static func bind(host: String, port: Int, router: RequestRouter, maxFrameBytes: Int32, logger: Logger) async throws -> KafkaServer {
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: host.isEmpty ? "0.0.0.0" : host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(KafkaFrameDecoder(maxFrameBytes: maxFrameBytes)))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return KafkaServer(router: router, maxFrameBytes: maxFrameBytes, logger: logger, listener: listener)
    }

    /// Serves connections until the listener is closed.
    func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            try await self.listener.executeThenClose { connections in
                for try await connection in connections {
                    group.addTask { await self.serve(connection) }
                }
            }
        }
    }

    /// Stops accepting connections; `run()` returns once open connections have ended.
    func stopAccepting() {
        self.listener.channel.close(promise: nil)
    }

    private func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        let peer = connection.channel.remoteAddress?.description ?? "unknown peer"
        do {
            try await connection.executeThenClose { inbound, outbound in
                for try await frame in inbound {
                    switch await self.router.route(frame, peer: peer) {
                    case .respond(let response): try await outbound.write(response)
                    case .noResponse: continue
                    case .close(let reason):
                        self.logger.warning("closing connection from \(peer): \(reason)")
                        return
                    }
                }
            }
        } catch let error as ChannelError where error == .ioOnClosedChannel || error == .eof {
            self.logger.debug("connection from \(peer) closed by the client")
        } catch {
            self.logger.warning("closed connection from \(peer): \(error)")
        }
    }
}

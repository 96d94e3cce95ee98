import KafkaProtocol
import LogStorage
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// The Kafka listener: accepts connections and serves each with one sequential request loop, so responses
/// leave in request order even when clients pipeline (Kafka mutes a channel until its response is sent; the
/// loop is the same guarantee). Frames above `socket.request.max.bytes` are refused before they are buffered;
/// a malformed request closes that connection only, with a log line naming the peer. `drain` is the graceful
/// end: stop accepting, let each connection finish the request it is serving, close the idle ones.
final class KafkaServer: Sendable {
    private let router: RequestRouter
    private let maxFrameBytes: Int32
    private let logger: Logger
    private let connections = ConnectionTracker()
    private let listener: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, IOData>, Never>
    private let unclaimed: UnclaimedConnections

    /// The bound address (the port is the real one when 0 was asked for).
    var localAddress: SocketAddress? { self.listener.channel.localAddress }

    private init(
        router: RequestRouter, maxFrameBytes: Int32, logger: Logger, listener: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, IOData>, Never>,
        unclaimed: UnclaimedConnections
    ) {
        self.router = router
        self.maxFrameBytes = maxFrameBytes
        self.logger = logger
        self.listener = listener
        self.unclaimed = unclaimed
    }

    /// Binds the listener.
    static func bind(host: String, port: Int, router: RequestRouter, maxFrameBytes: Int32, logger: Logger) async throws -> KafkaServer {
        let unclaimed = UnclaimedConnections()
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: host.isEmpty ? "0.0.0.0" : host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(KafkaFrameDecoder(maxFrameBytes: maxFrameBytes)))
                    return unclaimed.hold(try NIOAsyncChannel<ByteBuffer, IOData>(wrappingChannelSynchronously: channel))
                }
            }
        return KafkaServer(router: router, maxFrameBytes: maxFrameBytes, logger: logger, listener: listener, unclaimed: unclaimed)
    }

    /// Serves connections until the listener is closed.
    func run() async throws {
        defer {
            // Connections accepted as the listener closed, which its sequence never handed over (see
            // UnclaimedConnections): closed through executeThenClose, in the background.
            let leftovers = self.unclaimed.takeAll()
            if !leftovers.isEmpty { Task { for connection in leftovers { try? await connection.executeThenClose { _, _ in } } } }
        }
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

    /// Stops accepting, closes idle connections, lets busy ones send the response they are working on and then
    /// closes them; returns when all are closed or after `timeout`.
    /// - Returns: how many connections were still open at the timeout.
    @discardableResult
    func drain(timeout: Duration) async -> Int {
        self.stopAccepting()
        self.connections.drain()
        let deadline = ContinuousClock.now + timeout
        while self.connections.openCount > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return self.connections.openCount
    }

    /// Writes a response's parts and returns once NIO has written them (or failed to). Each file region gets a
    /// duplicated descriptor, closed here after the writes complete: NIO completes every write promise, even when
    /// the channel closed meanwhile and the data was dropped, so no descriptor leaks and none closes early (a
    /// segment may be deleted by retention meanwhile; the duplicate keeps it readable).
    private static func send(_ parts: [ResponsePart], on channel: any Channel) async throws {
        var handles: [NIOFileHandle] = []
        defer { for handle in handles { try? handle.close() } }
        // Descriptors first: if one cannot be had, nothing has been written yet.
        let data: [IOData] = try parts.map { part in
            switch part {
            case .bytes(let buffer):
                return .byteBuffer(buffer)
            case .file(let slice):
                let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: try slice.file.duplicateDescriptor())
                handles.append(handle)
                return .fileRegion(FileRegion(fileHandle: handle, readerIndex: Int(slice.position), endIndex: Int(slice.position) + slice.length))
            }
        }
        let last = data.map { channel.write($0) }.last
        channel.flush()
        // Writes complete in order, so the last one completing means all did.
        try await last?.get()
    }

    private func serve(_ connection: NIOAsyncChannel<ByteBuffer, IOData>) async {
        self.unclaimed.claim(connection)
        let peer = connection.channel.remoteAddress?.description ?? "unknown peer"
        let channel = connection.channel
        guard self.connections.opened(channel) else {
            // Draining: close at once, but through executeThenClose, which finishes the channel's writer (NIO traps
            // when an NIOAsyncChannel is dropped without it; a client reconnecting during shutdown did that).
            try? await connection.executeThenClose { _, _ in }
            return
        }
        defer { self.connections.closed(channel) }
        do {
            try await connection.executeThenClose { inbound, _ in
                for try await frame in inbound {
                    guard self.connections.begin(channel) else { return }  // draining: start nothing new
                    switch await self.router.route(frame, peer: peer) {
                    case .respond(let parts): try await Self.send(parts, on: channel)
                    case .noResponse: break
                    case .close(let reason):
                        self.logger.warning("closing connection from \(peer): \(reason)")
                        return
                    }
                    guard self.connections.end(channel) else { return }  // draining: close after the response
                }
            }
        } catch let error as ChannelError where error == .ioOnClosedChannel || error == .eof {
            self.logger.debug("connection from \(peer) closed by the client")
        } catch {
            self.logger.warning("closed connection from \(peer): \(error)")
        }
    }
}

/// Accepted connections between the listener's child initializer and `serve`. NIO traps when an NIOAsyncChannel is
/// dropped without `executeThenClose` having finished its writer; a connection accepted while the listener closes is
/// wrapped but never handed over by the listener's sequence, so it would be dropped (a broker crashed in shutdown
/// when a follower reconnected at that moment). Held here, it is closed properly when `run()` ends.
private final class UnclaimedConnections: Sendable {
    private let held = Mutex<[ObjectIdentifier: NIOAsyncChannel<ByteBuffer, IOData>]>([:])

    func hold(_ connection: NIOAsyncChannel<ByteBuffer, IOData>) -> NIOAsyncChannel<ByteBuffer, IOData> {
        self.held.withLock { $0[ObjectIdentifier(connection.channel)] = connection }
        return connection
    }

    func claim(_ connection: NIOAsyncChannel<ByteBuffer, IOData>) {
        _ = self.held.withLock { $0.removeValue(forKey: ObjectIdentifier(connection.channel)) }
    }

    func takeAll() -> [NIOAsyncChannel<ByteBuffer, IOData>] {
        self.held.withLock { held in
            defer { held.removeAll() }
            return Array(held.values)
        }
    }
}

/// The open connections and whether each is serving a request, so a draining server can close the idle ones at
/// once and the busy ones after their response.
private final class ConnectionTracker: Sendable {
    private struct State {
        var connections: [ObjectIdentifier: (channel: any Channel, busy: Bool)] = [:]
        var draining = false
    }

    private let state = Mutex(State())

    var openCount: Int { self.state.withLock { $0.connections.count } }

    /// - Returns: false when draining (the connection should close at once).
    func opened(_ channel: any Channel) -> Bool {
        self.state.withLock { state in
            guard !state.draining else { return false }
            state.connections[ObjectIdentifier(channel)] = (channel, false)
            return true
        }
    }

    func closed(_ channel: any Channel) {
        _ = self.state.withLock { $0.connections.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// Marks a request started. - Returns: false when draining (do not start it).
    func begin(_ channel: any Channel) -> Bool {
        self.state.withLock { state in
            guard !state.draining else { return false }
            state.connections[ObjectIdentifier(channel)]?.busy = true
            return true
        }
    }

    /// Marks a request finished. - Returns: false when draining (close the connection now).
    func end(_ channel: any Channel) -> Bool {
        self.state.withLock { state in
            state.connections[ObjectIdentifier(channel)]?.busy = false
            return !state.draining
        }
    }

    /// Starts draining: idle connections are closed now, busy ones when their request ends.
    func drain() {
        let idle = self.state.withLock { state in
            state.draining = true
            return state.connections.values.filter { !$0.busy }.map(\.channel)
        }
        for channel in idle { channel.close(promise: nil) }
    }
}

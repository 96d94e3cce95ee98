import Logging
import Synchronization

/// An async client for a ZooKeeper ensemble over the multithreaded C client, that outlives its sessions.
///
/// All requests are `async` and throw `ZooKeeperError` carrying ZooKeeper's code. Paths are relative to the
/// connect string's chroot. Watches are one-shot (`Watch`), and `follow(node:)` / `follow(children:)` re-arm
/// them to track a node continuously.
///
/// Sessions: `connect` returns once the first session is connected. If the server later expires the session,
/// the client reports `.expired`, fails the watches and in-flight requests of the old session with
/// `sessionExpired`, opens a new session, and reports `.newSession` once it is connected, so that the owner
/// can re-create its ephemeral nodes (as Kafka's `ZooKeeperClient` re-initializes). Requests made while the
/// replacement is being set up wait for it.
///
/// Thread-safe: share one client across tasks.
public final class ZooKeeperClient: Sendable {
    /// How to reach the ensemble.
    public struct Configuration: Sendable {
        public var connectString: ConnectString
        /// Requested session timeout (Kafka's `zookeeper.session.timeout.ms`, default 18 s). The server
        /// clamps it to between 2 and 20 ticks.
        public var sessionTimeout: Duration
        /// How long `connect` waits for the first connection (Kafka's `zookeeper.connection.timeout.ms`).
        public var connectionTimeout: Duration
        public var logger: Logger

        public init(
            connectString: ConnectString,
            sessionTimeout: Duration = .seconds(18),
            connectionTimeout: Duration = .seconds(18),
            logger: Logger = Logger(label: "ferry.zookeeper")
        ) {
            self.connectString = connectString
            self.sessionTimeout = sessionTimeout
            self.connectionTimeout = connectionTimeout
            self.logger = logger
        }
    }

    private enum Lifecycle {
        case active(ZooKeeperSession)
        /// The session expired; a new one is being opened. Requests wait on the promise.
        case replacing(OneShot<ZooKeeperSession>)
        case closed
    }

    public let configuration: Configuration
    private let lifecycle: Mutex<Lifecycle>
    private let broadcaster = SessionEventBroadcaster()
    /// The task replacing an expired session, if one runs; `close()` waits for it.
    private let replacement = Mutex<Task<Void, Never>?>(nil)

    private var logger: Logger { self.configuration.logger }

    private init(configuration: Configuration) {
        self.configuration = configuration
        self.lifecycle = Mutex(.replacing(OneShot()))
    }

    deinit {
        // Dropped without close(): still close the handle so the C threads stop and the session ends.
        if case .active(let session) = self.lifecycle.withLock({ $0 }) {
            Task { await session.close() }
        }
        self.broadcaster.finish()
    }

    /// Connects to the ensemble and waits for the first session.
    /// - Throws: `ZooKeeperError(.connectionTimeout)` if no server answered within `connectionTimeout`,
    ///   `.badArguments` for a connect string the C client rejects.
    public static func connect(_ configuration: Configuration) async throws -> ZooKeeperClient {
        let client = ZooKeeperClient(configuration: configuration)
        let session = try client.openSession(isReplacement: false)
        client.lifecycle.withLock { $0 = .active(session) }
        configuration.logger.info("connecting to ZooKeeper \(configuration.connectString)")
        let connected: Void?
        do {
            connected = try await withDeadline(configuration.connectionTimeout) {
                try await session.context.firstConnect.value()
            }
        } catch {
            await client.close()
            throw error
        }
        guard connected != nil else {
            await client.close()
            throw ZooKeeperError(.connectionTimeout, path: configuration.connectString.description, operation: "connect")
        }
        return client
    }

    /// Connects with default timeouts to `connectString` (`host:port[,...][/chroot]`).
    public static func connect(_ connectString: String, sessionTimeout: Duration = .seconds(18)) async throws
        -> ZooKeeperClient
    {
        try await self.connect(Configuration(connectString: ConnectString(parsing: connectString), sessionTimeout: sessionTimeout))
    }

    /// Ends the session (its ephemeral nodes go at once) and fails pending watches with `.closed`. Idempotent.
    public func close() async {
        let previous = self.lifecycle.withLock { state in
            defer { state = .closed }
            return state
        }
        switch previous {
        case .active(let session):
            let id = session.sessionID ?? 0
            await session.close()
            self.logger.info("closed ZooKeeper session \(id.sessionIDDescription)")
        case .replacing(let waiter):
            waiter.complete(.failure(ZooKeeperError(.closed, operation: "connect")))
        case .closed:
            return
        }
        // A replacement that was under way closes what it opened; wait so nothing outlives close().
        await self.replacement.withLock({ $0 })?.value
        self.broadcaster.finish()
    }

    // MARK: Session

    /// A stream of this client's session events from now on; it ends after `.closed`.
    public func sessionEvents() -> AsyncStream<SessionEvent> { self.broadcaster.subscribe() }

    /// The current session's id, or `nil` while a replacement session is being opened or after close.
    public var sessionID: Int64? { self.activeSession?.sessionID }

    /// True once `close()` has been called.
    public var isClosed: Bool {
        if case .closed = self.lifecycle.withLock({ $0 }) { return true }
        return false
    }

    /// The current session's id and password (for tools and tests that attach to the same session).
    public var sessionCredentials: SessionCredentials? { self.activeSession?.credentials }

    /// The `host:port` of the server the client is connected or connecting to.
    public var currentServer: String? { self.activeSession?.currentServer }

    private var activeSession: ZooKeeperSession? {
        if case .active(let session) = self.lifecycle.withLock({ $0 }) { return session }
        return nil
    }

    private func openSession(isReplacement: Bool) throws -> ZooKeeperSession {
        try ZooKeeperSession.open(
            connectString: self.configuration.connectString.description,
            sessionTimeout: self.configuration.sessionTimeout,
            isReplacement: isReplacement
        ) { [weak self] context, state, sessionID, firstConnect in
            self?.sessionStateChanged(context, state, sessionID: sessionID, firstConnect: firstConnect)
        }
    }

    /// Runs on the C completion thread for each session state change of any of our sessions.
    private func sessionStateChanged(
        _ context: SessionContext, _ state: RawSessionState, sessionID: Int64, firstConnect: Bool
    ) {
        let id = sessionID.sessionIDDescription
        switch state {
        case .connected:
            if context.isReplacement && firstConnect {
                self.logger.notice("new ZooKeeper session \(id) established after expiry")
                self.broadcaster.emit(.newSession(sessionID: sessionID))
            } else {
                self.logger.info("ZooKeeper session \(id) connected")
                self.broadcaster.emit(.connected(sessionID: sessionID))
            }
        case .connecting:
            self.logger.warning("disconnected from ZooKeeper; session \(id) survives while the client reconnects within the session timeout")
            self.broadcaster.emit(.disconnected)
        case .expired:
            self.logger.warning("ZooKeeper session \(id) expired; opening a new session")
            self.broadcaster.emit(.expired(sessionID: sessionID))
            self.replaceSession(expiredContext: context)
        case .authFailed:
            self.logger.error("ZooKeeper authentication failed for session \(id)")
            self.broadcaster.emit(.authFailed)
        }
    }

    private func replaceSession(expiredContext: SessionContext) {
        let waiter = OneShot<ZooKeeperSession>()
        let expired: ZooKeeperSession? = self.lifecycle.withLock { state in
            guard case .active(let session) = state, session.context === expiredContext else { return nil }
            state = .replacing(waiter)
            return session
        }
        guard let expired else { return }
        // The C completion thread must not block on zookeeper_close or wait for the new session, so the
        // replacement runs as its own task: the one unstructured task of this module. close() awaits it.
        let task = Task {
            await expired.close()
            while true {
                if self.isClosed {
                    waiter.complete(.failure(ZooKeeperError(.closed, operation: "connect")))
                    return
                }
                do {
                    let session = try self.openSession(isReplacement: true)
                    let installed = self.lifecycle.withLock { state in
                        guard case .replacing = state else { return false }
                        state = .active(session)
                        return true
                    }
                    if installed {
                        waiter.complete(.success(session))
                    } else {
                        await session.close()
                        waiter.complete(.failure(ZooKeeperError(.closed, operation: "connect")))
                    }
                    return
                } catch {
                    self.logger.error("could not open a new ZooKeeper session: \(error); retrying in 1 s")
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
        self.replacement.withLock { $0 = task }
    }

    /// The session requests go to. While an expired session is being replaced it waits, up to the
    /// connection timeout, for the new one.
    /// - Throws: `.closed` after close; `.connectionLoss` (retriable) if no new session came in time.
    private func session() async throws -> ZooKeeperSession {
        switch self.lifecycle.withLock({ $0 }) {
        case .active(let session):
            return session
        case .replacing(let waiter):
            guard let session = try await withDeadline(self.configuration.connectionTimeout, { try await waiter.value() })
            else { throw ZooKeeperError(.connectionLoss, operation: "connect") }
            return session
        case .closed:
            throw ZooKeeperError(.closed)
        }
    }

    /// Runs one request on the current session; if that session closed before the request could be sent
    /// (it expired and is being replaced), runs it on the next one.
    ///
    /// A request that fails with `connectionLoss` is sent again once the client has reconnected, as Kafka's
    /// `KafkaZkClient.retryRequestsUntilConnected` does: losing one server of the ensemble is not the caller's
    /// problem while the session lives. As there, a write may then be applied twice (a create answers
    /// `nodeExists`, a conditional write `badVersion`); callers already handle those answers.
    /// - Throws: `.connectionLoss` if no connection came back within the connection timeout; `.sessionExpired`
    ///   if the session ended while the request waited.
    private func onSession<T: Sendable>(_ request: (ZooKeeperSession) async throws -> T) async throws -> T {
        while true {
            let session = try await self.session()
            do {
                return try await request(session)
            } catch is InFlightRequests.Closed {
                continue
            } catch let error as ZooKeeperError where error.code == .connectionLoss {
                let reconnected: Void?
                do {
                    reconnected = try await withDeadline(self.configuration.connectionTimeout) {
                        try await session.context.whenConnected.value()
                    }
                } catch let ended as ZooKeeperError {
                    throw ZooKeeperError(ended.code, path: error.path, operation: error.operation)
                }
                guard reconnected != nil else { throw error }
                self.logger.debug("\(error.operation ?? "request") \(error.path ?? "") lost its connection; sending it again")
            }
        }
    }

    // MARK: Requests

    /// Creates a znode with the open ACL.
    /// - Returns: the path created; for a sequential mode, with the server's counter appended.
    /// - Throws: `.nodeExists`, `.noNode` (no parent), `.noChildrenForEphemerals`, ...
    @discardableResult
    public func create(_ path: String, data: [UInt8] = [], mode: CreateMode = .persistent) async throws -> String {
        try Self.validate(path, sequential: mode == .persistentSequential || mode == .ephemeralSequential)
        return try await self.onSession { try await $0.create(path, data: data, mode: mode) }
    }

    /// Creates `path` (persistent, empty) and its missing ancestors; existing nodes are left as they are.
    /// Kafka's `makeSurePersistentPathExists`.
    ///
    /// As Kafka's `createRecursive`, the path itself is tried first and ancestors only on `NONODE`: every create is a
    /// write through the quorum's transaction log, a failed one too, and the parents usually exist.
    public func createRecursively(_ path: String, data: [UInt8] = []) async throws {
        try Self.validate(path)
        do {
            try await self.create(path, data: data)
        } catch let error as ZooKeeperError where error.code == .nodeExists {
        } catch let error as ZooKeeperError where error.code == .noNode {
            if let parent = ZNodePath.parent(of: path), parent != "/" { try await self.createRecursively(parent) }
            do { try await self.create(path, data: data) } catch let error as ZooKeeperError where error.code == .nodeExists {}
        }
    }

    /// Reads a znode's data and stat.
    /// - Throws: `.noNode` if it does not exist.
    public func get(_ path: String) async throws -> NodeData {
        try Self.validate(path)
        return try await self.onSession { try await $0.getData(path, watch: false) }.node
    }

    /// Reads a znode's data and stat, or `nil` if it does not exist.
    public func getIfExists(_ path: String) async throws -> NodeData? {
        do {
            return try await self.get(path)
        } catch let error as ZooKeeperError where error.code == .noNode {
            return nil
        }
    }

    /// Reads a znode and sets a one-shot watch that fires on its next change or deletion.
    public func getAndWatch(_ path: String) async throws -> (NodeData, Watch) {
        try Self.validate(path)
        let reply = try await self.onSession { try await $0.getData(path, watch: true) }
        return (reply.node, reply.watch!)
    }

    /// Replaces a znode's data if its version is `version` (-1: any version).
    /// - Returns: the new stat.
    /// - Throws: `.badVersion` if the node changed since it was read, `.noNode`.
    @discardableResult
    public func set(_ path: String, data: [UInt8], version: Int32 = -1) async throws -> Stat {
        try Self.validate(path)
        return try await self.onSession { try await $0.setData(path, data: data, version: version) }
    }

    /// Deletes a znode if its version is `version` (-1: any version).
    /// - Throws: `.badVersion`, `.noNode`, `.notEmpty`.
    public func delete(_ path: String, version: Int32 = -1) async throws {
        try Self.validate(path)
        try await self.onSession { try await $0.delete(path, version: version) }
    }

    /// Deletes a znode and everything under it, children first (`deleteall` in zkCli). A missing node is fine.
    public func deleteRecursively(_ path: String) async throws {
        let children: [String]
        do {
            children = try await self.children(path)
        } catch let error as ZooKeeperError where error.code == .noNode {
            return
        }
        for child in children { try await self.deleteRecursively(ZNodePath.join(path, child)) }
        do { try await self.delete(path) } catch let error as ZooKeeperError where error.code == .noNode {}
    }

    /// The stat of a znode, or `nil` if it does not exist.
    public func exists(_ path: String) async throws -> Stat? {
        try Self.validate(path)
        return try await self.onSession { try await $0.exists(path, watch: false) }.stat
    }

    /// Like `exists`, and sets a one-shot watch: on creation if the node is absent, on change or deletion if
    /// it is present.
    public func existsAndWatch(_ path: String) async throws -> (Stat?, Watch) {
        try Self.validate(path)
        let reply = try await self.onSession { try await $0.exists(path, watch: true) }
        return (reply.stat, reply.watch!)
    }

    /// The names of a znode's children, in the server's order (unsorted).
    /// - Throws: `.noNode`.
    public func children(_ path: String) async throws -> [String] {
        try Self.validate(path)
        return try await self.onSession { try await $0.children(path, watch: false) }.children
    }

    /// The children and the parent's stat, with a one-shot watch on the child list (and the parent's deletion).
    public func childrenAndWatch(_ path: String) async throws -> ([String], Stat, Watch) {
        try Self.validate(path)
        let reply = try await self.onSession { try await $0.children(path, watch: true) }
        return (reply.children, reply.stat, reply.watch!)
    }

    /// Waits until the server this client reads from has applied every write the leader had committed when the
    /// call was made. ZooKeeper only guarantees a session sees its own writes; call this before reading what
    /// another client (on another server) wrote.
    public func sync(_ path: String) async throws {
        try Self.validate(path)
        try await self.onSession { try await $0.sync(path) }
    }

    /// Applies `operations` atomically: all of them, or none.
    /// - Returns: one result per operation, in order.
    /// - Throws: `ZooKeeperError` with the code of the operation that failed and `failedOperationIndex`.
    public func multi(_ operations: [ZooKeeperOperation]) async throws -> [ZooKeeperOperationResult] {
        for operation in operations {
            if case .create(let path, _, let mode) = operation {
                try Self.validate(path, sequential: mode == .persistentSequential || mode == .ephemeralSequential)
            } else {
                try Self.validate(operation.path)
            }
        }
        guard !operations.isEmpty else { return [] }
        return try await self.onSession { try await $0.multi(operations) }
    }

    private static func validate(_ path: String, sequential: Bool = false) throws {
        do {
            try ZNodePath.validate(path, allowSequentialSuffix: sequential)
        } catch {
            throw ZooKeeperError(.badArguments, path: path, operation: error.reason)
        }
    }
}

/// Runs `body`, giving up after `timeout`.
/// - Returns: `body`'s value, or `nil` if the timeout passed first (`body` is then cancelled).
func withDeadline<T: Sendable>(
    _ timeout: Duration,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T? {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

import CZooKeeper
import Dispatch
import Logging
import Synchronization

// How the C client reaches Swift, and why it is safe.
//
// `zookeeper_mt` runs two threads per handle: an IO thread and a completion thread. Every completion and every
// watch event is delivered on the completion thread, in the order the server sent them.
//
// * Requests: each `zoo_a*` call gets a retained `RequestBox` as its `data` pointer and is recorded in the
//   session's `InFlightRequests`. The C client calls the completion at most once; the completion removes the
//   record, takes the retain back and completes the box's `OneShot`. When a call returns an error instead, it
//   registered no completion (`ZBADARGUMENTS`, `ZINVALIDSTATE`) and the box is released at once; after
//   `ZMARSHALLINGERROR` the C client may or may not have registered one, so the record stays. Requests the C
//   client never completes (it drops queued completions on close) are failed and released from the record
//   once `zookeeper_close` has returned, when no callback can race it: every retain is released exactly once.
// * Requests are issued under `InFlightRequests`' gate, which `close()` shuts first: no C call can run on a
//   handle that is being freed.
// * Watches: every watch of a session uses the same C watcher function and the same context, the session's
//   `SessionContext`, which is retained for as long as the handle lives and released only after
//   `zookeeper_close` has returned (no callback can run after that). The C client dedups identical
//   (function, context) pairs per path, so each server event reaches Swift once and `WatchRegistry` fans it out.
// * Nothing here calls back into the C client from its own threads: callbacks only complete `OneShot`s or
//   record state, and the Swift tasks they wake carry on in the cooperative pool.

/// A `zhandle_t *`. Every function of the multithreaded C client is thread-safe on a handle, so the pointer
/// may be shared; it is valid until `ZooKeeperSession.close()` has run.
struct HandlePointer: @unchecked Sendable {
    let raw: OpaquePointer
}

/// A session state as the C client reports it in a session event.
enum RawSessionState: Sendable, Equatable {
    case connecting
    case connected
    case expired
    case authFailed

    init?(_ state: Int32) {
        switch state {
        case ZOO_CONNECTED_STATE, ZOO_READONLY_STATE: self = .connected
        case ZOO_CONNECTING_STATE, ZOO_ASSOCIATING_STATE, ZOO_NOTCONNECTED_STATE: self = .connecting
        case ZOO_EXPIRED_SESSION_STATE: self = .expired
        case ZOO_AUTH_FAILED_STATE: self = .authFailed
        default: return nil
        }
    }
}

/// What the C client's callbacks for one handle need: its watches, its first-connect signal, and where to
/// report session state changes. Lives as long as the handle (see the note at the top of this file).
final class SessionContext: Sendable {
    /// Arguments: the context, the new state, the session id, and whether this is the session's first connect.
    typealias StateHandler = @Sendable (SessionContext, RawSessionState, _ sessionID: Int64, _ firstConnect: Bool) -> Void

    let watches = WatchRegistry()
    /// The session's requests in flight (see `InFlightRequests`).
    let ledger = InFlightRequests()
    /// Completed by the first `connected` event, or failed if the session ends before it connects.
    let firstConnect = OneShot<Void>()
    /// True for a session made to replace one that expired.
    let isReplacement: Bool
    private let onState: StateHandler
    private let lastState = Mutex<RawSessionState?>(nil)
    /// Completed while the session is connected, pending while the C client reconnects, failed once the
    /// session has ended. Requests that lost their connection wait on it before they are sent again.
    private let connectionSignal = Mutex(OneShot<Void>())

    /// The signal for the session being connected (see `connectionSignal`), as of now.
    var whenConnected: OneShot<Void> { self.connectionSignal.withLock { $0 } }

    private enum ConnectionChange {
        case up
        case down
        case ended(ZooKeeperError)
    }

    /// Records that the connection came back, dropped, or the session ended for good.
    private func record(_ change: ConnectionChange) {
        let signal: OneShot<Void> = self.connectionSignal.withLock { signal in
            switch (change, signal.result) {
            case (.down, .success?), (.ended, .success?):
                signal = OneShot()  // a past connection must not satisfy those who wait from now on
            default:
                break
            }
            return signal
        }
        switch change {
        case .up: signal.complete(.success(()))
        case .down: break
        case .ended(let error): signal.complete(.failure(error))
        }
    }

    /// Called when the session's handle has closed: nothing waits for a reconnect any more.
    func sessionEnded(_ error: ZooKeeperError) { self.record(.ended(error)) }

    init(isReplacement: Bool, onState: @escaping StateHandler) {
        self.isReplacement = isReplacement
        self.onState = onState
    }

    /// Called on the C completion thread for every event of the handle.
    func receive(type: Int32, state: Int32, path: String?, sessionID: Int64) {
        if type == ZOO_SESSION_EVENT {
            guard let state = RawSessionState(state) else { return }
            // The C client repeats "connecting" while it walks the server list; report each change once.
            let changed = self.lastState.withLock { last in
                defer { last = state }
                return last != state
            }
            guard changed else { return }
            var isFirstConnect = false
            switch state {
            case .connected:
                isFirstConnect = self.firstConnect.complete(.success(()))
                self.record(.up)
            case .expired:
                self.ledger.markExpired()
                let error = ZooKeeperError(.sessionExpired, operation: "watch")
                self.watches.failAll(error)
                self.firstConnect.complete(.failure(error))
                self.record(.ended(error))
            case .authFailed:
                let error = ZooKeeperError(.authFailed, operation: "watch")
                self.watches.failAll(error)
                self.firstConnect.complete(.failure(error))
                self.record(.ended(error))
            case .connecting:
                self.record(.down)
            }
            self.onState(self, state, sessionID, isFirstConnect)
            return
        }
        guard let path else { return }
        let kind: WatchEvent.Kind
        switch type {
        case ZOO_CREATED_EVENT: kind = .nodeCreated
        case ZOO_DELETED_EVENT: kind = .nodeDeleted
        case ZOO_CHANGED_EVENT: kind = .nodeDataChanged
        case ZOO_CHILD_EVENT: kind = .nodeChildrenChanged
        default: return  // ZOO_NOTWATCHING_EVENT: a watch was removed; we never remove watches.
        }
        self.watches.dispatch(WatchEvent(kind: kind, path: path))
    }
}

/// The single watcher function of every handle; `context` is the handle's `SessionContext`.
private let sessionWatcher: watcher_fn = { handle, type, state, path, context in
    guard let context else { return }
    let session = Unmanaged<SessionContext>.fromOpaque(context).takeUnretainedValue()
    let sessionID = handle.flatMap { zoo_client_id($0)?.pointee.client_id } ?? 0
    session.receive(type: type, state: state, path: path.map { String(cString: $0) }, sessionID: sessionID)
}

private let cLibraryLogger = Logger(label: "ferry.zookeeper.c")
private let cLibraryRepeats = RepeatSuppressor(window: 10)

/// Routes the C client's own log lines into swift-log, at the level the line names, without the C client's own
/// time and thread prefix. While no server answers, the C client says the same two lines every 100 ms; a line
/// repeated within 10 s is counted instead, as librdkafka does ("N identical messages suppressed").
private let cLibraryLog: log_callback_fn = { message in
    guard let message else { return }
    var text = String(cString: message).trimmingWhitespace()
    if let prefixEnd = text.firstRange(of: "):ZOO_") { text = String(text[text.index(prefixEnd.lowerBound, offsetBy: 2)...]) }
    guard let suppressed = cLibraryRepeats.admit(text) else { return }
    let level: Logger.Level =
        text.hasPrefix("ZOO_ERROR") ? .error : text.hasPrefix("ZOO_WARN") ? .warning : text.hasPrefix("ZOO_INFO") ? .info : .debug
    cLibraryLogger.log(level: level, "\(text)\(suppressed > 0 ? " (\(suppressed) identical messages suppressed)" : "")")
}

/// Decides whether a log line is said again: not while the same line was said less than `window` seconds ago.
final class RepeatSuppressor: Sendable {
    private struct Said { var at: ContinuousClock.Instant; var suppressed: Int }
    private let window: Duration
    private let said = Mutex<[String: Said]>([:])

    init(window seconds: Int) { self.window = .seconds(seconds) }

    /// `nil` to suppress `line`; otherwise how many repeats of it were suppressed since it was last said.
    func admit(_ line: String, now: ContinuousClock.Instant = .now) -> Int? {
        self.said.withLock { said in
            if let last = said[line], now - last.at < self.window {
                said[line]?.suppressed += 1
                return nil
            }
            if said.count > 256 { said = said.filter { now - $0.value.at < self.window } }
            let suppressed = said[line]?.suppressed ?? 0
            said[line] = Said(at: now, suppressed: 0)
            return suppressed
        }
    }
}

/// One request in flight: the promise its caller awaits and what the completion needs to finish it.
final class RequestBox<Value: Sendable>: PendingRequest {
    let promise = OneShot<Value>()
    let operation: String
    let path: String?
    /// Where a watch set by this request is registered when the request succeeds; `nil` for no watch.
    let watches: WatchRegistry?
    /// Buffers the C client writes into until the completion runs (multi only).
    let buffers: MultiBuffers?
    /// The session's ledger and this request's entry in it.
    let ledger: InFlightRequests
    private let id = Mutex<UInt64?>(nil)

    init(
        operation: String, path: String?, ledger: InFlightRequests, watches: WatchRegistry? = nil,
        buffers: MultiBuffers? = nil
    ) {
        self.operation = operation
        self.path = path
        self.ledger = ledger
        self.watches = watches
        self.buffers = buffers
    }

    func setID(_ id: UInt64) { self.id.withLock { $0 = id } }

    /// The error for a C result code. `ZCLOSING` on a session the server expired means the request died with
    /// the session, which is what callers need to know to retry on the next one.
    func error(_ rc: Int32) -> ZooKeeperError {
        if rc == ZCLOSING.rawValue && self.ledger.isExpired {
            return ZooKeeperError(.sessionExpired, path: self.path, operation: self.operation)
        }
        return ZooKeeperError(rawValue: rc, path: self.path, operation: self.operation)
    }

    func fail(_ rc: Int32) {
        self.promise.complete(.failure(self.error(rc)))
    }

    func abandon(_ error: ZooKeeperError) {
        self.promise.complete(.failure(ZooKeeperError(error.code, path: self.path, operation: self.operation)))
        Unmanaged.passUnretained(self).release()
    }

    /// Takes back the retain handed to the C client with the request and removes it from the ledger.
    static func take(_ data: UnsafeRawPointer?) -> RequestBox<Value> {
        let box = Unmanaged<RequestBox<Value>>.fromOpaque(data!).takeRetainedValue()
        if let id = box.id.withLock({ $0 }) { box.ledger.completed(id) }
        return box
    }
}

/// The reply to `getData`, with the watch it set if asked to.
struct DataReply: Sendable {
    var node: NodeData
    var watch: Watch?
}

/// The reply to `exists`: the stat if the node exists, and the watch if one was asked for.
struct ExistsReply: Sendable {
    var stat: Stat?
    var watch: Watch?
}

/// The reply to `getChildren`.
struct ChildrenReply: Sendable {
    var children: [String]
    var stat: Stat
    var watch: Watch?
}

// MARK: - Completions (all run on the C completion thread)

private let stringCompletion: string_completion_t = { rc, value, data in
    let box = RequestBox<String>.take(data)
    guard rc == ZOK.rawValue else { return box.fail(rc) }
    box.promise.complete(.success(value.map { String(cString: $0) } ?? box.path ?? ""))
}

private let voidCompletion: void_completion_t = { rc, data in
    let box = RequestBox<Void>.take(data)
    guard rc == ZOK.rawValue else { return box.fail(rc) }
    box.promise.complete(.success(()))
}

private let setCompletion: stat_completion_t = { rc, stat, data in
    let box = RequestBox<Stat>.take(data)
    guard rc == ZOK.rawValue, let stat else { return box.fail(rc) }
    box.promise.complete(.success(Stat(stat.pointee)))
}

private let existsCompletion: stat_completion_t = { rc, stat, data in
    let box = RequestBox<ExistsReply>.take(data)
    // The C client keeps an exists-watch in its data table when the node exists and in its exists table
    // when it does not; mirror that so the right events fire it.
    switch rc {
    case ZOK.rawValue:
        let watch = box.watches.map { $0.register(path: box.path!, kind: .data) }
        box.promise.complete(.success(ExistsReply(stat: stat.map { Stat($0.pointee) }, watch: watch)))
    case ZNONODE.rawValue:
        let watch = box.watches.map { $0.register(path: box.path!, kind: .exists) }
        box.promise.complete(.success(ExistsReply(stat: nil, watch: watch)))
    default:
        box.fail(rc)
    }
}

private let dataCompletion: data_completion_t = { rc, value, length, stat, data in
    let box = RequestBox<DataReply>.take(data)
    guard rc == ZOK.rawValue, let stat else { return box.fail(rc) }
    var bytes: [UInt8] = []
    if let value, length > 0 {
        bytes = Array(UnsafeRawBufferPointer(start: value, count: Int(length)))
    }
    let watch = box.watches.map { $0.register(path: box.path!, kind: .data) }
    box.promise.complete(.success(DataReply(node: NodeData(data: bytes, stat: Stat(stat.pointee)), watch: watch)))
}

private let childrenCompletion: strings_stat_completion_t = { rc, strings, stat, data in
    let box = RequestBox<ChildrenReply>.take(data)
    guard rc == ZOK.rawValue, let stat else { return box.fail(rc) }
    var children: [String] = []
    if let strings, let items = strings.pointee.data {
        children.reserveCapacity(Int(strings.pointee.count))
        for index in 0..<Int(strings.pointee.count) {
            if let name = items[index] { children.append(String(cString: name)) }
        }
    }
    let watch = box.watches.map { $0.register(path: box.path!, kind: .children) }
    box.promise.complete(.success(ChildrenReply(children: children, stat: Stat(stat.pointee), watch: watch)))
}

private let multiCompletion: void_completion_t = { rc, data in
    let box = RequestBox<[ZooKeeperOperationResult]>.take(data)
    let buffers = box.buffers!
    if rc == ZOK.rawValue {
        box.promise.complete(.success(buffers.results()))
    } else {
        box.promise.complete(.failure(buffers.failure(rc, sessionError: box.error(rc))))
    }
}

// MARK: - Session

/// One ZooKeeper session: a C handle, its context and its requests. `ZooKeeperClient` replaces the whole
/// object when the session expires; a session never outlives its handle.
final class ZooKeeperSession: Sendable {
    let handle: HandlePointer
    let context: SessionContext
    var ledger: InFlightRequests { self.context.ledger }

    private static let configureCLibrary: Void = {
        // The C client logs every reconnect attempt at INFO; warnings and errors are what an operator needs.
        zoo_set_debug_level(ZOO_LOG_LEVEL_WARN)
    }()

    private init(handle: HandlePointer, context: SessionContext) {
        self.handle = handle
        self.context = context
    }

    /// Starts a new session; the C client connects in the background (`context.firstConnect` says when).
    /// The corresponding C function is `zookeeper_init2`.
    /// - Throws: `ZooKeeperError(.badArguments)` if the C client rejects the connect string.
    static func open(
        connectString: String,
        sessionTimeout: Duration,
        isReplacement: Bool,
        onState: @escaping SessionContext.StateHandler
    ) throws -> ZooKeeperSession {
        _ = Self.configureCLibrary
        let context = SessionContext(isReplacement: isReplacement, onState: onState)
        let retained = Unmanaged.passRetained(context)
        let timeoutMs = Int32(clamping: sessionTimeout.components.seconds * 1000
            + sessionTimeout.components.attoseconds / 1_000_000_000_000_000)
        guard let raw = zookeeper_init2(connectString, sessionWatcher, timeoutMs, nil, retained.toOpaque(), 0, cLibraryLog)
        else {
            retained.release()
            throw ZooKeeperError(.badArguments, path: connectString, operation: "connect")
        }
        return ZooKeeperSession(handle: HandlePointer(raw: raw), context: context)
    }

    /// The session id the server assigned (0 before the first connect; `nil` once closed).
    var sessionID: Int64? { self.ledger.ifOpen { zoo_client_id(self.handle.raw)?.pointee.client_id ?? 0 } }

    /// The session id and password, with which another handle can attach to this session.
    var credentials: SessionCredentials? {
        self.ledger.ifOpen {
            zoo_client_id(self.handle.raw).map { id in
                SessionCredentials(
                    sessionID: id.pointee.client_id, password: withUnsafeBytes(of: id.pointee.passwd) { Array($0) })
            }
        } ?? nil
    }

    /// The `host:port` the C client is connected or connecting to.
    var currentServer: String? {
        self.ledger.ifOpen { zoo_get_current_server(self.handle.raw).map { String(cString: $0) } } ?? nil
    }

    /// Closes the handle, fails what the C client left uncompleted, and releases the context. Blocks until
    /// the C threads stop, so it runs on a Dispatch thread, never the cooperative pool. Idempotent.
    /// The corresponding C function is `zookeeper_close`.
    func close() async {
        guard self.ledger.close() else { return }
        let handle = self.handle
        let context = self.context
        let ledger = self.ledger
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                zookeeper_close(handle.raw)
                // No callback runs after zookeeper_close returns: settle what it left, then balance open()'s
                // passRetained of the context.
                ledger.abandonAll()
                Unmanaged.passUnretained(context).release()
                continuation.resume()
            }
        }
        let error = ZooKeeperError(self.ledger.isExpired ? .sessionExpired : .closed, operation: "watch")
        self.context.watches.failAll(error)
        self.context.firstConnect.complete(.failure(error))
        self.context.sessionEnded(error)
    }

    /// Sends one request: records the box, hands a retain of it to `start` (which must pass it as the C
    /// call's `data`), and waits for its completion.
    /// - Throws: `InFlightRequests.Closed` if the session closed before the request could be sent.
    private func send<Value: Sendable>(
        _ box: RequestBox<Value>,
        _ start: (OpaquePointer, UnsafeMutableRawPointer) -> Int32
    ) async throws -> Value {
        let unmanaged = Unmanaged.passRetained(box)
        let rc: Int32
        do {
            (_, rc) = try self.ledger.issue(box, keepOnError: { $0 == ZMARSHALLINGERROR.rawValue }) { id in
                box.setID(id)
                return start(self.handle.raw, unmanaged.toOpaque())
            }
        } catch {
            unmanaged.release()
            throw error
        }
        if rc != ZOK.rawValue {
            // Without a registered completion the retain is ours to give back; after ZMARSHALLINGERROR the
            // ledger keeps it and settles it at close (see the note at the top of the file).
            if rc != ZMARSHALLINGERROR.rawValue { unmanaged.release() }
            let expired = self.ledger.ifOpen { zoo_state(self.handle.raw) == ZOO_EXPIRED_SESSION_STATE } ?? true
            if expired && (rc == ZINVALIDSTATE.rawValue || rc == ZMARSHALLINGERROR.rawValue) {
                throw ZooKeeperError(.sessionExpired, path: box.path, operation: box.operation)
            }
            throw ZooKeeperError(rawValue: rc, path: box.path, operation: box.operation)
        }
        return try await box.promise.value()
    }

    /// The corresponding C function is `zoo_acreate`.
    func create(_ path: String, data: [UInt8], mode: CreateMode) async throws -> String {
        let box = RequestBox<String>(operation: "create", path: path, ledger: self.ledger)
        return try await self.send(box) { handle, token in
            data.withUnsafeBufferPointer { bytes in
                bytes.withMemoryRebound(to: CChar.self) { chars in
                    zoo_acreate(
                        handle, path, chars.baseAddress, Int32(chars.count), ferry_zoo_open_acl_unsafe(),
                        mode.flags, stringCompletion, token
                    )
                }
            }
        }
    }

    /// The corresponding C function is `zoo_awget`.
    func getData(_ path: String, watch: Bool) async throws -> DataReply {
        let box = RequestBox<DataReply>(
            operation: "getData", path: path, ledger: self.ledger, watches: watch ? self.context.watches : nil)
        let context = watch ? Unmanaged.passUnretained(self.context).toOpaque() : nil
        return try await self.send(box) { handle, token in
            zoo_awget(handle, path, watch ? sessionWatcher : nil, context, dataCompletion, token)
        }
    }

    /// The corresponding C function is `zoo_aset`.
    func setData(_ path: String, data: [UInt8], version: Int32) async throws -> Stat {
        let box = RequestBox<Stat>(operation: "setData", path: path, ledger: self.ledger)
        return try await self.send(box) { handle, token in
            data.withUnsafeBufferPointer { bytes in
                bytes.withMemoryRebound(to: CChar.self) { chars in
                    zoo_aset(handle, path, chars.baseAddress, Int32(chars.count), version, setCompletion, token)
                }
            }
        }
    }

    /// The corresponding C function is `zoo_adelete`.
    func delete(_ path: String, version: Int32) async throws {
        let box = RequestBox<Void>(operation: "delete", path: path, ledger: self.ledger)
        try await self.send(box) { handle, token in
            zoo_adelete(handle, path, version, voidCompletion, token)
        }
    }

    /// The corresponding C function is `zoo_awexists`.
    func exists(_ path: String, watch: Bool) async throws -> ExistsReply {
        let box = RequestBox<ExistsReply>(
            operation: "exists", path: path, ledger: self.ledger, watches: watch ? self.context.watches : nil)
        let context = watch ? Unmanaged.passUnretained(self.context).toOpaque() : nil
        return try await self.send(box) { handle, token in
            zoo_awexists(handle, path, watch ? sessionWatcher : nil, context, existsCompletion, token)
        }
    }

    /// The corresponding C function is `zoo_awget_children2`.
    func children(_ path: String, watch: Bool) async throws -> ChildrenReply {
        let box = RequestBox<ChildrenReply>(
            operation: "getChildren", path: path, ledger: self.ledger, watches: watch ? self.context.watches : nil)
        let context = watch ? Unmanaged.passUnretained(self.context).toOpaque() : nil
        return try await self.send(box) { handle, token in
            zoo_awget_children2(handle, path, watch ? sessionWatcher : nil, context, childrenCompletion, token)
        }
    }

    /// The corresponding C function is `zoo_async`.
    func sync(_ path: String) async throws {
        let box = RequestBox<String>(operation: "sync", path: path, ledger: self.ledger)
        _ = try await self.send(box) { handle, token in
            zoo_async(handle, path, stringCompletion, token)
        }
    }

    /// The corresponding C function is `zoo_amulti`.
    func multi(_ operations: [ZooKeeperOperation]) async throws -> [ZooKeeperOperationResult] {
        let buffers = MultiBuffers(operations)
        let box = RequestBox<[ZooKeeperOperationResult]>(
            operation: "multi", path: nil, ledger: self.ledger, buffers: buffers)
        return try await self.send(box) { handle, token in
            zoo_amulti(handle, Int32(operations.count), buffers.ops, buffers.resultSlots, multiCompletion, token)
        }
    }
}

/// A session's id and password. Another client that presents them attaches to the same session.
public struct SessionCredentials: Hashable, Sendable {
    public var sessionID: Int64
    public var password: [UInt8]
}

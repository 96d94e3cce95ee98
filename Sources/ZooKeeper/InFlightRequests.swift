import Synchronization

/// A request handed to the C client that has not completed yet.
protocol PendingRequest: AnyObject, Sendable {
    /// Fails the request's promise and releases the retain the C client was given. Called only once no C
    /// callback can run any more (after `zookeeper_close` returned).
    func abandon(_ error: ZooKeeperError)
}

/// The gate and ledger of one session's requests.
///
/// * Gate: requests are issued while holding this lock, and `close()` shuts it first, so no C call can run
///   on a handle that `zookeeper_close` is freeing (the C functions never block on the completion thread,
///   and no callback takes this lock while calling C, so holding it across the call is safe).
/// * Ledger: the multithreaded C library's completion thread stops as soon as close is requested, so
///   requests still queued then are never completed (see ZOOKEEPER-3868). Every accepted request is
///   recorded here; its completion removes it; whatever is left after `zookeeper_close` returned is failed
///   and released here, exactly once.
final class InFlightRequests: Sendable {
    private struct State {
        var closed = false
        /// Set when the server expired the session: requests then fail with `sessionExpired`, never `closing`.
        var expired = false
        var nextID: UInt64 = 0
        var pending: [UInt64: any PendingRequest] = [:]
    }

    private let state = Mutex(State())

    /// Why a request could not be issued: the session closed before it was sent. The client retries on the
    /// session that replaced it.
    struct Closed: Error {}

    /// Records `request` and runs `issue` (the C call) under the gate.
    /// - Returns: the C call's result code.
    /// - Throws: `Closed` if the session is closing.
    func issue(_ request: any PendingRequest, keepOnError: (Int32) -> Bool, _ issue: (UInt64) -> Int32) throws -> (UInt64, Int32) {
        try self.state.withLock { state in
            guard !state.closed else { throw Closed() }
            let id = state.nextID
            state.nextID += 1
            state.pending[id] = request
            let rc = issue(id)
            if rc != 0 && !keepOnError(rc) { state.pending.removeValue(forKey: id) }
            return (id, rc)
        }
    }

    /// Removes a request whose completion is running. Called on the C completion thread.
    func completed(_ id: UInt64) {
        _ = self.state.withLock { $0.pending.removeValue(forKey: id) }
    }

    /// Runs `body` only while the session is open (for reads of the handle).
    func ifOpen<T>(_ body: () -> T) -> T? {
        self.state.withLock { $0.closed ? nil : body() }
    }

    func markExpired() { self.state.withLock { $0.expired = true } }

    var isExpired: Bool { self.state.withLock { $0.expired } }

    /// Shuts the gate. Returns `false` if it was already shut.
    func close() -> Bool {
        self.state.withLock { state in
            defer { state.closed = true }
            return !state.closed
        }
    }

    /// Fails and releases everything the C client never completed. Call after `zookeeper_close` returned.
    func abandonAll() {
        let (left, expired) = self.state.withLock { state in
            defer { state.pending = [:] }
            return (Array(state.pending.values), state.expired)
        }
        let error = ZooKeeperError(expired ? .sessionExpired : .closing, operation: "request")
        for request in left { request.abandon(error) }
    }
}

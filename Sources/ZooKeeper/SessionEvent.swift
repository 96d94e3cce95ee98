import Synchronization

/// A change in the client's connection to the ensemble, as seen by `ZooKeeperClient.sessionEvents()`.
public enum SessionEvent: Hashable, Sendable {
    /// Connected, or reconnected to some server, with the same session: ephemeral nodes and watches survive.
    case connected(sessionID: Int64)
    /// The connection was lost; the C client is trying the other servers. The session lives on until the
    /// session timeout passes without a connection.
    case disconnected
    /// The server expired the session: its ephemeral nodes and watches are gone. A new session follows.
    case expired(sessionID: Int64)
    /// A new session replaced an expired one and is connected. Owners re-create their ephemeral nodes and
    /// re-read what they watch now.
    case newSession(sessionID: Int64)
    /// The server rejected the client's credentials.
    case authFailed
    /// `close()` was called; no further events follow.
    case closed
}

extension Int64 {
    /// A session id the way ZooKeeper's logs print it (`0x100000a2b3c0000`).
    public var sessionIDDescription: String { "0x" + String(UInt64(bitPattern: self), radix: 16) }
}

/// Hands every session event to every subscriber. Subscribing returns a fresh stream that starts with the
/// events after the call; finished streams unsubscribe themselves.
final class SessionEventBroadcaster: Sendable {
    private struct State {
        var nextID = 0
        var subscribers: [Int: AsyncStream<SessionEvent>.Continuation] = [:]
        var finished = false
    }

    private let state = Mutex(State())

    func subscribe() -> AsyncStream<SessionEvent> {
        let (stream, continuation) = AsyncStream<SessionEvent>.makeStream()
        let id: Int? = self.state.withLock { state in
            guard !state.finished else { return nil }
            defer { state.nextID += 1 }
            state.subscribers[state.nextID] = continuation
            return state.nextID
        }
        guard let id else {
            continuation.yield(.closed)
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    func emit(_ event: SessionEvent) {
        let subscribers = self.state.withLock { Array($0.subscribers.values) }
        for subscriber in subscribers { subscriber.yield(event) }
    }

    /// Emits `.closed` and ends every stream.
    func finish() {
        let subscribers: [AsyncStream<SessionEvent>.Continuation] = self.state.withLock { state in
            state.finished = true
            defer { state.subscribers = [:] }
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers {
            subscriber.yield(.closed)
            subscriber.finish()
        }
    }
}

import Synchronization

/// A change notification for a watched znode.
public struct WatchEvent: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        case nodeCreated
        case nodeDeleted
        case nodeDataChanged
        case nodeChildrenChanged
    }

    public var kind: Kind
    /// The watched path, relative to the client's chroot.
    public var path: String

    public init(kind: Kind, path: String) {
        self.kind = kind
        self.path = path
    }

    public var description: String { "\(self.kind) \(self.path)" }
}

/// A one-shot watch: ZooKeeper reports at most one change per registration, as its own watches do.
///
/// Await `event()` to be told of the change. If the session expires or the client closes first, `event()`
/// throws `sessionExpired` or `closed`: the watch is gone and the caller must read again (on the new session)
/// to learn the current state. `ZooKeeperClient.follow(node:)` does exactly that in a loop.
public struct Watch: Sendable {
    let trigger: OneShot<WatchEvent>

    /// Waits for the change.
    /// - Throws: `ZooKeeperError` with `.sessionExpired` or `.closed`, or `CancellationError`.
    public func event() async throws -> WatchEvent {
        try await self.trigger.value()
    }
}

/// Which server-side watch table a registration sits in; decides which events fire it.
enum WatchKind: Hashable, Sendable {
    /// Set by getData, or by exists on a node that exists.
    case data
    /// Set by exists on a node that does not exist yet.
    case exists
    /// Set by getChildren.
    case children

    /// The registrations an event fires, by ZooKeeper's rules (`ZKWatchManager.materialize` in the Java client):
    /// created and data-changed fire data and exists watches, children-changed fires child watches, and
    /// deleted fires data, exists and child watches.
    static func triggered(by kind: WatchEvent.Kind) -> [WatchKind] {
        switch kind {
        case .nodeCreated, .nodeDataChanged: [.data, .exists]
        case .nodeChildrenChanged: [.children]
        case .nodeDeleted: [.data, .exists, .children]
        }
    }
}

/// The watches of one ZooKeeper session, keyed by path and kind.
///
/// The C client registers one watcher function and one context for every watch of a session, so each server
/// watch reaches Swift exactly once and is fanned out here. Registrations are added from the C completion
/// thread in the completion of the request that set the watch, which the C client runs before any later event
/// for the path: no change between the read and the registration can be missed.
final class WatchRegistry: Sendable {
    private struct Key: Hashable {
        var path: String
        var kind: WatchKind
    }

    private enum State {
        case open([Key: [OneShot<WatchEvent>]])
        case failed(ZooKeeperError)
    }

    private let state = Mutex<State>(.open([:]))

    /// Adds a registration and returns the watch its owner awaits. Registrations of the same path and kind
    /// share one trigger: they fire on the same event anyway, and abandoned watches (a cancelled follower,
    /// a dropped `Watch`) then cannot pile up on a node that never changes.
    func register(path: String, kind: WatchKind) -> Watch {
        let key = Key(path: path, kind: kind)
        let (trigger, failure): (OneShot<WatchEvent>, ZooKeeperError?) = self.state.withLock { state in
            switch state {
            case .failed(let error):
                return (OneShot(), error)
            case .open(var table):
                if let existing = table[key]?.first { return (existing, nil) }
                let trigger = OneShot<WatchEvent>()
                table[key] = [trigger]
                state = .open(table)
                return (trigger, nil)
            }
        }
        if let failure { trigger.complete(.failure(failure)) }
        return Watch(trigger: trigger)
    }

    /// Fires and removes every registration the event reaches.
    func dispatch(_ event: WatchEvent) {
        let fired: [OneShot<WatchEvent>] = self.state.withLock { state in
            guard case .open(var table) = state else { return [] }
            var fired: [OneShot<WatchEvent>] = []
            for kind in WatchKind.triggered(by: event.kind) {
                fired += table.removeValue(forKey: Key(path: event.path, kind: kind)) ?? []
            }
            state = .open(table)
            return fired
        }
        for trigger in fired { trigger.complete(.success(event)) }
    }

    /// Fails every registration, now and later: the session that held them is gone.
    func failAll(_ error: ZooKeeperError) {
        let pending: [OneShot<WatchEvent>] = self.state.withLock { state in
            guard case .open(let table) = state else { return [] }
            state = .failed(error)
            return table.values.flatMap { $0 }
        }
        for trigger in pending { trigger.complete(.failure(error)) }
    }

    /// How many registrations are waiting (for tests and leak checks).
    var count: Int {
        self.state.withLock { state in
            if case .open(let table) = state { return table.values.reduce(0) { $0 + $1.count } }
            return 0
        }
    }
}

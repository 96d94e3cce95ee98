/// Continuous watching built from one-shot watches: read, watch, wait, read again.
///
/// ZooKeeper reports that a node changed, not each intermediate value: if a node is written twice before the
/// re-read, the follower yields the latest value once. Every yield is a state the node really had, in order,
/// and the last state is always yielded. Across a session expiry the follower re-reads on the new session and
/// yields again only if the node changed in between (compared by the stat, not by the data).
extension ZooKeeperClient {
    /// Follows one znode.
    /// - Returns: a stream that yields the node's current data at once, then after each change; `nil` while the
    ///   node does not exist. It ends when the client closes or the consuming task is cancelled, and throws on
    ///   an error other than a session change or a lost connection.
    public func follow(node path: String) -> AsyncThrowingStream<NodeData?, any Error> {
        self.followLoop { client in
            let (node, watch) = try await client.readNodeAndWatch(path)
            return (node, node?.stat, watch)
        }
    }

    /// Follows the children of one znode.
    /// - Returns: a stream that yields the sorted child names at once, then after each change to the list;
    ///   `[]` while the parent does not exist. Ends like `follow(node:)`.
    public func follow(children path: String) -> AsyncThrowingStream<[String], any Error> {
        self.followLoop { client in
            let (children, version, watch) = try await client.readChildrenAndWatch(path)
            return (children.sorted(), version, watch)
        }
    }

    /// The shared loop. `read` returns the value, a key that changes whenever the value does (a stat), and
    /// the watch to wait on; a value is yielded only when its key differs from the last one yielded.
    private func followLoop<Value: Sendable, Key: Hashable & Sendable>(
        _ read: @escaping @Sendable (ZooKeeperClient) async throws -> (Value, Key, Watch)
    ) -> AsyncThrowingStream<Value, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                var lastKey: Key?  // nil until the first yield
                while !Task.isCancelled {
                    do {
                        let (value, key, watch) = try await read(self)
                        if lastKey != .some(key) {
                            continuation.yield(value)
                            lastKey = .some(key)
                        }
                        _ = try await watch.event()
                    } catch let error as ZooKeeperError {
                        switch error.code {
                        case .closed:
                            continuation.finish()
                            return
                        case .closing where self.isClosed:
                            continuation.finish()
                            return
                        case .sessionExpired, .connectionLoss, .operationTimeout, .sessionMoved, .throttled, .closing:
                            // The watch died with the connection or the session (a session closed for
                            // replacement reports closing); the next read re-arms it, after a pause so a
                            // flapping connection is not hammered.
                            try? await Task.sleep(for: .milliseconds(100))
                        default:
                            continuation.finish(throwing: error)
                            return
                        }
                    } catch {
                        continuation.finish(throwing: error is CancellationError ? nil : error)
                        return
                    }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// The node's data and a watch; or `nil` and an exists-watch that fires when it appears.
    private func readNodeAndWatch(_ path: String) async throws -> (NodeData?, Watch) {
        while true {
            do {
                return try await self.getAndWatch(path)
            } catch let error as ZooKeeperError where error.code == .noNode {
                let (stat, watch) = try await self.existsAndWatch(path)
                if stat == nil { return (nil, watch) }
                // Created between the two reads: read it again (the exists-watch fires harmlessly later).
            }
        }
    }

    /// The children, a version that changes whenever the list does, and a watch.
    private func readChildrenAndWatch(_ path: String) async throws -> ([String], ChildListVersion, Watch) {
        while true {
            do {
                let (children, stat, watch) = try await self.childrenAndWatch(path)
                return (children, ChildListVersion(czxid: stat.czxid, cversion: stat.cversion), watch)
            } catch let error as ZooKeeperError where error.code == .noNode {
                let (stat, watch) = try await self.existsAndWatch(path)
                if stat == nil { return ([], ChildListVersion(czxid: 0, cversion: -1), watch) }
            }
        }
    }
}

/// Identifies one state of a child list: the parent's creation and its count of child changes.
struct ChildListVersion: Hashable, Sendable {
    var czxid: Int64
    var cversion: Int32
}

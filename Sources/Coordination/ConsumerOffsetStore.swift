import KafkaModel
import ZooKeeper

/// An offset a group committed, as read back.
public struct CommittedOffset: Hashable, Sendable {
    public var offset: Int64
    public var metadata: String
    /// When it was committed (the znode's mtime), milliseconds since the epoch.
    public var commitTimeMs: Int64

    public init(offset: Int64, metadata: String, commitTimeMs: Int64) {
        self.offset = offset
        self.metadata = metadata
        self.commitTimeMs = commitTimeMs
    }
}

/// Committed offsets of consumer groups in ZooKeeper, where old Kafka and its ZooKeeper-balanced consumers keep them:
/// `/consumers/<group>/offsets/<topic>/<partition>` holds the next offset to consume as bare decimal text, so every
/// broker reads the same offsets after a coordinator failover and old consumers share them. A non-empty metadata
/// string is kept in a `metadata` child of the offset node (old consumers never look there), written in the same
/// multi as the offset; so it belongs to the current offset only if both carry the same mzxid, and a later commit
/// without metadata needs no delete.
///
/// Commits are fenced: each batch is one `multi` that first checks the version of the coordinator partition's state
/// znode the committing broker knows; a broker that lost the leadership (a new leader epoch rewrote the state) fails
/// the check and cannot overwrite offsets its successor has accepted.
public struct ConsumerOffsetStore: Sendable {
    let client: ZooKeeperClient

    public init(client: ZooKeeperClient) {
        self.client = client
    }

    /// The fence of a commit: the coordinator partition's state znode at the version the coordinator knows.
    public struct Fence: Hashable, Sendable {
        public var statePath: String
        public var version: Int32

        public init(statePath: String, version: Int32) {
            self.statePath = statePath
            self.version = version
        }
    }

    /// Writes `offsets` atomically, if `fence` still holds.
    /// - Throws: `ZooKeeperError` with `.badVersion` or `.noNode` on the fence when the leadership moved.
    public func commit(group: String, offsets: [TopicPartition: (offset: Int64, metadata: String)], fence: Fence?) async throws {
        guard !offsets.isEmpty else { return }
        var writes: [(path: String, data: [UInt8])] = []
        for (partition, committed) in offsets.sorted(by: { $0.key < $1.key }) {
            let path = ZNodes.consumerOffset(group: group, topic: partition.topic, partition: partition.partition)
            writes.append((path, Array(String(committed.offset).utf8)))
            if !committed.metadata.isEmpty { writes.append((path + "/metadata", Array(committed.metadata.utf8))) }
        }
        let fenceOps = fence.map { [ZooKeeperOperation.check(path: $0.statePath, version: $0.version)] } ?? []
        var missing: Set<String> = []
        for attempt in 1...5 {
            // A node missing so far is created with its data in the same fenced multi: an offset node never exists
            // empty, so a reader (or an old consumer) sees a commit whole or not at all, and a fenced-off commit leaves
            // nothing behind.
            let writeOps = writes.map {
                missing.contains($0.path)
                    ? ZooKeeperOperation.create(path: $0.path, data: $0.data, mode: .persistent)
                    : ZooKeeperOperation.setData(path: $0.path, data: $0.data, version: -1)
            }
            do {
                _ = try await self.client.multi(fenceOps + writeOps)
                return
            } catch let error as ZooKeeperError where error.code == .noNode || error.code == .nodeExists {
                // First commit of some partition, a concurrent first commit, or the fence is gone.
                if let fence, try await self.client.exists(fence.statePath) == nil { throw error }
                var nowMissing: Set<String> = []
                for write in writes where try await self.client.exists(write.path) == nil {
                    nowMissing.insert(write.path)
                    if !write.path.hasSuffix("/metadata"), let parent = ZNodePath.parent(of: write.path) {
                        try await self.client.createRecursively(parent)
                    }
                }
                // Nothing changed since the last try: the failure was not about these nodes.
                if nowMissing == missing || attempt == 5 { throw error }
                missing = nowMissing
            }
        }
    }

    /// The committed offsets of `partitions`, or of every partition the group committed for when `nil`; partitions
    /// without a commit are absent.
    public func fetch(group: String, partitions: [TopicPartition]?) async throws -> [TopicPartition: CommittedOffset] {
        let wanted: [TopicPartition]
        if let partitions {
            wanted = partitions
        } else {
            var all: [TopicPartition] = []
            for topic in try await self.childrenIfExists("/consumers/\(group)/offsets") {
                for name in try await self.childrenIfExists("/consumers/\(group)/offsets/\(topic)") {
                    if let index = Int32(name) { all.append(TopicPartition(topic, index)) }
                }
            }
            wanted = all
        }
        return try await withThrowingTaskGroup(of: (TopicPartition, CommittedOffset?).self) { tasks in
            for partition in wanted {
                tasks.addTask {
                    let path = ZNodes.consumerOffset(group: group, topic: partition.topic, partition: partition.partition)
                    guard let node = try await self.client.getIfExists(path),
                          let offset = Int64(String(decoding: node.data, as: UTF8.self).trimmingSpaces)
                    else { return (partition, nil) }
                    var metadata = ""
                    // Metadata written by an older commit (another mzxid) does not describe this offset.
                    if node.stat.numChildren > 0, let child = try await self.client.getIfExists(path + "/metadata"),
                       child.stat.mzxid == node.stat.mzxid {
                        metadata = String(decoding: child.data, as: UTF8.self)
                    }
                    return (partition, CommittedOffset(offset: offset, metadata: metadata, commitTimeMs: node.stat.mtime))
                }
            }
            var found: [TopicPartition: CommittedOffset] = [:]
            for try await (partition, committed) in tasks {
                if let committed { found[partition] = committed }
            }
            return found
        }
    }

    /// The groups with a node under `/consumers` (broker-coordinated groups that committed, and ZooKeeper-balanced ones).
    public func groups() async throws -> [String] {
        try await self.childrenIfExists("/consumers")
    }

    /// Whether members of an old ZooKeeper-balanced consumer are registered under `/consumers/<group>/ids`.
    public func hasZooKeeperMembers(group: String) async throws -> Bool {
        !(try await self.childrenIfExists("/consumers/\(group)/ids")).isEmpty
    }

    /// Deletes the group's committed offsets, and the group's node if nothing else is under it.
    /// - Returns: whether the group had any node.
    @discardableResult
    public func deleteGroup(_ group: String) async throws -> Bool {
        guard try await self.client.exists("/consumers/\(group)") != nil else { return false }
        try await self.client.deleteRecursively("/consumers/\(group)/offsets")
        do {
            try await self.client.delete("/consumers/\(group)")
        } catch let error as ZooKeeperError where error.code == .notEmpty || error.code == .noNode {}
        return true
    }

    /// Deletes the offsets of `group` committed before `cutoffMs` (offsets.retention.minutes).
    /// - Returns: the partitions whose offsets expired.
    public func expireOffsets(group: String, committedBefore cutoffMs: Int64) async throws -> [TopicPartition] {
        var expired: [TopicPartition] = []
        for (partition, committed) in try await self.fetch(group: group, partitions: nil) where committed.commitTimeMs < cutoffMs {
            try await self.client.deleteRecursively(ZNodes.consumerOffset(group: group, topic: partition.topic, partition: partition.partition))
            expired.append(partition)
        }
        for topic in try await self.childrenIfExists("/consumers/\(group)/offsets") {
            do { try await self.client.delete("/consumers/\(group)/offsets/\(topic)") } catch let error as ZooKeeperError where error.code == .notEmpty || error.code == .noNode {}
        }
        return expired
    }

    private func childrenIfExists(_ path: String) async throws -> [String] {
        do {
            return try await self.client.children(path)
        } catch let error as ZooKeeperError where error.code == .noNode {
            return []
        }
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        String(self.drop { $0 == " " || $0 == "\n" }.reversed().drop { $0 == " " || $0 == "\n" }.reversed())
    }
}

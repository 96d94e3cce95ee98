/// The leader epochs of a partition and the first offset written in each, kept in the partition directory as
/// `leader-epoch-checkpoint` (Kafka's format: a version line `0`, a count line, then `<epoch> <startOffset>` lines).
///
/// Followers use it to find where their log diverges from a new leader's (OffsetForLeaderEpoch). Written
/// atomically whenever an epoch is added or entries are removed.
public struct LeaderEpochCache: Sendable {
    public struct Entry: Hashable, Sendable {
        public var epoch: Int32
        public var startOffset: Int64
    }

    public private(set) var entries: [Entry]
    let path: String

    init(path: String) throws {
        self.path = path
        self.entries = []
        guard let text = try FileSystem.readText(path) else { return }
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters() }
        guard lines.count >= 2, lines[0] == "0", let count = Int(lines[1]), lines.count >= 2 + count else {
            throw LogStorageError(.corruptFile, "unreadable leader epoch checkpoint", path: path)
        }
        for line in lines[2..<(2 + count)] {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let epoch = Int32(parts[0]), let offset = Int64(parts[1]) else {
                throw LogStorageError(.corruptFile, "bad leader epoch entry '\(line)'", path: path)
            }
            self.entries.append(Entry(epoch: epoch, startOffset: offset))
        }
    }

    /// The latest epoch, if any.
    public var latestEpoch: Int32? { self.entries.last?.epoch }

    /// Records that `epoch` starts at `startOffset`, if it is newer than the latest.
    mutating func assign(epoch: Int32, startOffset: Int64) throws {
        if let latest = self.entries.last, epoch <= latest.epoch { return }
        self.entries.append(Entry(epoch: epoch, startOffset: startOffset))
        try self.save()
    }

    /// Removes epochs that start at or after `endOffset` (the log was truncated there).
    mutating func truncate(fromEnd endOffset: Int64) throws {
        let kept = self.entries.filter { $0.startOffset < endOffset }
        guard kept.count != self.entries.count else { return }
        self.entries = kept
        try self.save()
    }

    /// Forgets every epoch (the log was emptied and restarted at another offset).
    mutating func removeAll() throws {
        guard !self.entries.isEmpty else { return }
        self.entries = []
        try self.save()
    }

    /// OffsetForLeaderEpoch's answer for `epoch` (Kafka's `LeaderEpochFileCache.endOffsetFor`): the latest epoch
    /// ends at the log end; an older one at the start of the next larger epoch, reported with the largest known
    /// epoch at or below it (or the requested one if none is); an epoch with no larger one after it, other than
    /// the latest, or -1, is undefined: (-1, -1).
    public func endOffset(for epoch: Int32, logEndOffset: Int64) -> (epoch: Int32, endOffset: Int64) {
        guard epoch >= 0 else { return (-1, -1) }
        if epoch == self.latestEpoch { return (epoch, logEndOffset) }
        guard let higher = self.entries.first(where: { $0.epoch > epoch }) else { return (-1, -1) }
        let floor = self.entries.last { $0.epoch <= epoch }
        return (floor?.epoch ?? epoch, higher.startOffset)
    }

    private func save() throws {
        let body = self.entries.map { "\($0.epoch) \($0.startOffset)\n" }.joined()
        try FileSystem.writeAtomically("0\n\(self.entries.count)\n" + body, to: self.path)
    }
}

extension Substring {
    func trimmingCharacters() -> String {
        String(self.drop { $0 == " " || $0 == "\r" || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\r" || $0 == "\t" }.reversed())
    }
}

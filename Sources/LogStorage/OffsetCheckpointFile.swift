import KafkaModel

/// A per-log-directory file of offsets by partition: `recovery-point-offset-checkpoint`,
/// `replication-offset-checkpoint` (high watermarks) and `log-start-offset-checkpoint`.
///
/// Format (Kafka's): a version line `0`, a count line, then `<topic> <partition> <offset>` lines. Written
/// atomically (temporary file, fsync, rename), so a reader sees the old or the new file, never a torn one.
public struct OffsetCheckpointFile: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    public func read() throws -> [TopicPartition: Int64] {
        guard let text = try FileSystem.readText(self.path) else { return [:] }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        guard lines.count >= 2, lines[0] == "0", let count = Int(lines[1]), lines.count == 2 + count else {
            throw LogStorageError(.corruptFile, "malformed offset checkpoint", path: self.path)
        }
        var offsets: [TopicPartition: Int64] = [:]
        for line in lines.dropFirst(2) {
            let parts = line.split(separator: " ")
            guard parts.count == 3, let partition = Int32(parts[1]), let offset = Int64(parts[2]) else {
                throw LogStorageError(.corruptFile, "malformed checkpoint line '\(line)'", path: self.path)
            }
            offsets[TopicPartition(String(parts[0]), partition)] = offset
        }
        return offsets
    }

    public func write(_ offsets: [TopicPartition: Int64]) throws {
        let body = offsets.keys.sorted().map { "\($0.topic) \($0.partition) \(offsets[$0]!)\n" }.joined()
        try FileSystem.writeAtomically("0\n\(offsets.count)\n" + body, to: self.path)
    }
}

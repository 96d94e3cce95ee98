/// A partition of a topic: Kafka's `TopicPartition`, printed `topic-partition` as in log directory names.
public struct TopicPartition: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    /// Parses a log directory name `<topic>-<partition>`; topics may themselves contain `-`.
    public init?(directoryName name: String) {
        guard let dash = name.lastIndex(of: "-"), dash != name.startIndex,
              let partition = Int32(name[name.index(after: dash)...]), partition >= 0
        else { return nil }
        self.init(String(name[..<dash]), partition)
    }

    public var description: String { "\(self.topic)-\(self.partition)" }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition)
    }
}

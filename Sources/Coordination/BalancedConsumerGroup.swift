import Foundation
import KafkaModel

/// The members of a ZooKeeper-balanced consumer group (`/consumers/<group>/ids/<consumerId>`) and who owns which
/// partition: the old high-level consumer's rebalancing, computed alike by every member with no coordinator.
///
/// Two dialects share the `/consumers/<group>` tree:
/// - **Kafka's** (ZookeeperConsumerConnector): a member's node holds the subscription JSON; the consumer threads
///   `<consumerId>-<n>` of every member subscribed to a topic, sorted as strings, take ranges of the partitions sorted
///   by number; ownership is `owners/<topic>/<partition>` holding the thread id.
/// - **pykafka's** BalancedConsumer: a member's node holds the bare topic name (pykafka counts only such members);
///   members sorted by id take ranges of the partitions sorted by the string `<topic>-<leader>-<partition>`; ownership
///   is `owners/<topic>/<leader>-<partition>` holding the consumer id (on Python 3, pykafka 2.8 writes the directory
///   as `owners/b'<topic>'`, the repr of the name's bytes; Ferry's member claims under both).
/// A group is in pykafka's dialect for a topic while some member is registered the pykafka way: then Ferry's members
/// register that way too, so every member counts the same participants and no two claim one partition.
public enum BalancedConsumerGroup {
    /// What a member's `/consumers/<group>/ids/<id>` node says it consumes.
    public enum Registration: Hashable, Sendable {
        /// Kafka's JSON: `subscription` maps a topic (static) or one regex (white_list / black_list) to its stream count.
        case kafka(subscription: [String: Int], pattern: String, timestamp: String)
        /// pykafka's: the node's data is the topic's name.
        case pykafka(topic: String)

        /// Parses a member node; data that is neither form is read as pykafka's bare topic name, as pykafka reads it.
        public static func parse(_ data: [UInt8]) -> Registration {
            if data.first == UInt8(ascii: "{"),
               let object = try? JSONSerialization.jsonObject(with: Data(data)) as? [String: Any],
               let subscription = object["subscription"] as? [String: Any] {
                let streams = subscription.compactMapValues { ($0 as? NSNumber)?.intValue }
                let timestamp = (object["timestamp"] as? String) ?? (object["timestamp"] as? NSNumber)?.stringValue ?? ""
                return .kafka(subscription: streams, pattern: object["pattern"] as? String ?? "static", timestamp: timestamp)
            }
            return .pykafka(topic: String(decoding: data, as: UTF8.self))
        }

        /// The node's data.
        public var data: [UInt8] {
            switch self {
            case .pykafka(let topic): return Array(topic.utf8)
            case .kafka(let subscription, let pattern, let timestamp):
                // Kafka's field order; JSONSerialization would sort the keys.
                let entries = subscription.sorted { $0.key < $1.key }.map { "\(Self.quoted($0.key)):\($0.value)" }.joined(separator: ",")
                return Array("{\"version\":1,\"subscription\":{\(entries)},\"pattern\":\"\(pattern)\",\"timestamp\":\"\(timestamp)\"}".utf8)
            }
        }

        /// How many consumer threads this member runs for `topic` (0: not subscribed).
        public func streams(for topic: String) -> Int {
            switch self {
            case .pykafka(let subscribed): return subscribed == topic ? 1 : 0
            case .kafka(let subscription, let pattern, _):
                if pattern == "static" { return subscription[topic] ?? 0 }
                guard let (regex, count) = subscription.first, !topic.hasPrefix("__") else { return 0 }
                let matches = topic.range(of: "^(?:\(regex))$", options: .regularExpression) != nil
                return (pattern == "black_list") != matches ? count : 0
            }
        }

        private static func quoted(_ text: String) -> String {
            let data = (try? JSONSerialization.data(withJSONObject: [text], options: [.fragmentsAllowed])) ?? Data("[\"\"]".utf8)
            return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
        }
    }

    /// How a group balances one topic.
    public enum Dialect: Hashable, Sendable {
        case kafka, pykafka
    }

    /// One partition as the balancing sees it.
    public struct PartitionInfo: Hashable, Sendable {
        public var id: Int32
        /// The leader's broker id, which pykafka's order and owner names use; -1 when there is none.
        public var leader: Int32

        public init(id: Int32, leader: Int32) {
            self.id = id
            self.leader = leader
        }
    }

    /// `topic`'s dialect, seen from the member `me`: pykafka's if any other member registered the pykafka way.
    public static func dialect(for topic: String, members: [String: Registration], me: String) -> Dialect {
        members.contains { $0.key != me && $0.value == .pykafka(topic: topic) } ? .pykafka : .kafka
    }

    /// Who owns each partition of `topic`: partition id → the owner string its owner node holds (a thread id in Kafka's
    /// dialect, a consumer id in pykafka's).
    public static func assign(topic: String, partitions: [PartitionInfo], members: [String: Registration], dialect: Dialect) -> [Int32: String] {
        switch dialect {
        case .kafka:
            var threads: [String] = []
            for (id, registration) in members {
                guard case .kafka = registration else { continue }
                threads += (0..<registration.streams(for: topic)).map { "\(id)-\($0)" }
            }
            let ordered = partitions.sorted { $0.id < $1.id }
            return self.range(owners: threads.sorted(by: Self.byteOrder), partitions: ordered)
        case .pykafka:
            let participants = members.filter { $0.value == .pykafka(topic: topic) }.keys.sorted(by: Self.byteOrder)
            let ordered = partitions.sorted { Self.byteOrder(Self.pykafkaKey(topic, $0), Self.pykafkaKey(topic, $1)) }
            return self.range(owners: participants, partitions: ordered)
        }
    }

    /// The owner node of a partition, under `/consumers/<group>/owners/<topic>/`.
    public static func ownerNodeName(_ partition: PartitionInfo, dialect: Dialect) -> String {
        dialect == .kafka ? String(partition.id) : "\(partition.leader)-\(partition.id)"
    }

    /// The partition an owner node names in either dialect (`3` or `<leader>-3`).
    public static func partition(ofOwnerNode name: String) -> Int32? {
        Int32(name.split(separator: "-").last.map(String.init) ?? name)
    }

    /// Kafka's range split: with `n = P / C` and `extra = P % C`, owner `i` takes `n + (i < extra ? 1 : 0)` partitions
    /// starting at `n * i + min(i, extra)`.
    static func range(owners: [String], partitions: [PartitionInfo]) -> [Int32: String] {
        guard !owners.isEmpty else { return [:] }
        let perOwner = partitions.count / owners.count
        let extra = partitions.count % owners.count
        var result: [Int32: String] = [:]
        for (index, owner) in owners.enumerated() {
            let start = perOwner * index + min(index, extra)
            let count = perOwner + (index < extra ? 1 : 0)
            for partition in partitions[start..<start + count] { result[partition.id] = owner }
        }
        return result
    }

    private static func pykafkaKey(_ topic: String, _ partition: PartitionInfo) -> String {
        "\(topic)-\(partition.leader)-\(partition.id)"
    }

    /// Byte order, as Java's and Python's string sorts of ASCII ids.
    static func byteOrder(_ left: String, _ right: String) -> Bool {
        left.utf8.lexicographicallyPrecedes(right.utf8)
    }
}

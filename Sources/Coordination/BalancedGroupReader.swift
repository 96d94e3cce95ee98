import KafkaModel
import ZooKeeper

/// Reads a ZooKeeper-balanced group as it stands (`/consumers/<group>/ids` and `owners`), so the broker can describe
/// it through DescribeGroups and ListGroups like a broker-coordinated one.
public struct BalancedGroupReader: Sendable {
    let client: ZooKeeperClient

    public init(client: ZooKeeperClient) {
        self.client = client
    }

    /// One registered member and the partitions it owns.
    public struct Member: Hashable, Sendable {
        public var consumerId: String
        public var registration: BalancedConsumerGroup.Registration
        public var partitions: [TopicPartition]

        /// The host the consumer id names: Kafka's `<group>_<host>-<ms>-<hex>`, pykafka's `<host>:<uuid>`.
        public func host(group: String) -> String {
            if case .pykafka = self.registration, let colon = self.consumerId.lastIndex(of: ":") {
                return String(self.consumerId[..<colon])
            }
            var rest = Substring(self.consumerId)
            if rest.hasPrefix(group + "_") { rest = rest.dropFirst(group.count + 1) }
            let parts = rest.split(separator: "-", omittingEmptySubsequences: false)
            return parts.count > 2 ? parts.dropLast(2).joined(separator: "-") : String(rest)
        }

        /// The topics the member subscribes to (static subscriptions and pykafka's one topic; empty for patterns).
        public var topics: [String] {
            switch self.registration {
            case .pykafka(let topic): return [topic]
            case .kafka(let subscription, let pattern, _): return pattern == "static" ? subscription.keys.sorted() : []
            }
        }
    }

    /// The group's registered members (sorted by id) with their partitions; empty when none is registered.
    public func members(group: String) async throws -> [Member] {
        let base = "/consumers/\(group)"
        var members: [String: Member] = [:]
        for id in try await self.childrenIfExists("\(base)/ids") {
            guard let node = try await self.client.getIfExists("\(base)/ids/\(id)") else { continue }
            members[id] = Member(consumerId: id, registration: .parse(node.data), partitions: [])
        }
        guard !members.isEmpty else { return [] }
        for directory in try await self.childrenIfExists("\(base)/owners") {
            // pykafka on Python 3 writes `b'<topic>'`.
            let topic = directory.hasPrefix("b'") && directory.hasSuffix("'") ? String(directory.dropFirst(2).dropLast()) : directory
            for name in try await self.childrenIfExists("\(base)/owners/\(directory)") {
                guard let partition = BalancedConsumerGroup.partition(ofOwnerNode: name),
                      let node = try await self.client.getIfExists("\(base)/owners/\(directory)/\(name)")
                else { continue }
                let owner = String(decoding: node.data, as: UTF8.self)
                // Kafka's owner is a thread id `<consumerId>-<n>`; pykafka's the consumer id.
                let memberId = members[owner] != nil ? owner : owner.lastIndex(of: "-").map { String(owner[..<$0]) }
                guard let memberId, members[memberId] != nil else { continue }
                let claimed = TopicPartition(topic, partition)
                if !members[memberId]!.partitions.contains(claimed) { members[memberId]!.partitions.append(claimed) }
            }
        }
        return members.values.map { member in
            var sorted = member
            sorted.partitions.sort()
            return sorted
        }.sorted { $0.consumerId < $1.consumerId }
    }

    private func childrenIfExists(_ path: String) async throws -> [String] {
        do {
            return try await self.client.children(path)
        } catch let error as ZooKeeperError where error.code == .noNode {
            return []
        }
    }
}

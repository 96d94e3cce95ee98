import Coordination
import Foundation
import KafkaModel
import Logging
import ZooKeeper

/// One member of a ZooKeeper-balanced consumer group: the old high-level consumer's protocol (Kafka's
/// ZookeeperConsumerConnector), which pykafka's BalancedConsumer also speaks in its own dialect
/// (`BalancedConsumerGroup`). The member registers under `/consumers/<group>/ids`, watches the members, the brokers
/// and the topics, and on any change `rebalance` recomputes its share and claims it through ephemeral owner nodes.
/// Offsets are read from and written to `/consumers/<group>/offsets/<topic>/<partition>`.
///
/// The caller drives it: when `needsRebalance` is set it commits what it consumed, calls `rebalance`, and reads the
/// partitions it returns.
public actor ZooKeeperGroupMember {
    public struct Configuration: Sendable {
        /// Kafka's `rebalance.backoff.ms` (the old consumer's default is `zookeeper.sync.time.ms`, 2 s).
        public var rebalanceBackoff: Duration = .seconds(2)
        /// Kafka's `rebalance.max.retries`. After them the member keeps what it could claim and tries again later.
        public var rebalanceMaxRetries = 4

        public init() {}
    }

    public nonisolated let groupId: String
    /// Kafka's form: `<group>_<host>-<milliseconds>-<8 hex digits>`.
    public nonisolated let consumerId: String
    public nonisolated let topics: [String]
    private let zooKeeper: ZooKeeperClient
    private let configuration: Configuration
    private let logger: Logger
    /// What the member's node says now; switches to pykafka's form when the group speaks it.
    private var registration: BalancedConsumerGroup.Registration
    /// Owner nodes this member holds: partition → node paths.
    private var owned: [TopicPartition: [String]] = [:]
    private var changed = true
    private var watchers: [Task<Void, Never>] = []

    public init(zooKeeper: ZooKeeperClient, groupId: String, topics: [String], configuration: Configuration = Configuration(),
                logger: Logger = Logger(label: "ferry.zookeeper-consumer")) {
        self.zooKeeper = zooKeeper
        self.groupId = groupId
        self.topics = topics
        self.configuration = configuration
        self.logger = logger
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let host = ProcessInfo.processInfo.hostName
        let suffix = UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(8).lowercased()
        self.consumerId = "\(groupId)_\(host)-\(now)-\(suffix)"
        self.registration = .kafka(subscription: Dictionary(uniqueKeysWithValues: topics.map { ($0, 1) }), pattern: "static", timestamp: String(now))
    }

    private var groupPath: String { "/consumers/\(self.groupId)" }
    private var memberPath: String { "\(self.groupPath)/ids/\(self.consumerId)" }

    /// Whether the members, brokers or topics changed since the last rebalance (or it left work undone).
    public var needsRebalance: Bool { self.changed }

    /// The partitions this member owns now.
    public var assignment: [TopicPartition] { self.owned.keys.sorted() }

    /// Registers the member and starts watching; the first `rebalance` follows.
    public func start() async throws {
        try await self.zooKeeper.createRecursively("\(self.groupPath)/ids")
        if self.topics.count == 1, case let members = try await self.members(),
           BalancedConsumerGroup.dialect(for: self.topics[0], members: members, me: self.consumerId) == .pykafka {
            self.registration = .pykafka(topic: self.topics[0])
        }
        _ = try await self.zooKeeper.create(self.memberPath, data: self.registration.data, mode: .ephemeral)
        self.logger.info("registered consumer \(self.consumerId) in group \(self.groupId) for \(self.topics.joined(separator: ","))")
        self.watch(self.zooKeeper.follow(children: "\(self.groupPath)/ids"))
        self.watch(self.zooKeeper.follow(children: "/brokers/ids"))
        self.watch(self.zooKeeper.follow(children: "/brokers/topics"))
        for topic in self.topics { self.watch(self.zooKeeper.follow(node: "/brokers/topics/\(topic)")) }
        let events = self.zooKeeper.sessionEvents()
        self.watchers.append(Task { [weak self] in
            for await event in events {
                if case .newSession = event { await self?.sessionReplaced() }
            }
        })
    }

    /// Recomputes this member's share of `partitions` (each topic's partitions with their leaders) and claims it,
    /// releasing what it no longer owns. A partition still owned by another member (which has not released it yet)
    /// is retried after `rebalanceBackoff`, up to `rebalanceMaxRetries` times; what is still missing then is left for
    /// the next rebalance, which `needsRebalance` asks for.
    /// - Returns: the partitions this member owns now.
    public func rebalance(partitions: [String: [BalancedConsumerGroup.PartitionInfo]]) async throws -> [TopicPartition] {
        self.changed = false
        for attempt in 0...self.configuration.rebalanceMaxRetries {
            let members = try await self.members()
            try await self.adoptDialect(members: members)
            var wanted: [TopicPartition: (nodes: [String], owner: String)] = [:]
            for topic in self.topics {
                let infos = partitions[topic] ?? []
                let dialect = BalancedConsumerGroup.dialect(for: topic, members: members, me: self.consumerId)
                let owners = BalancedConsumerGroup.assign(topic: topic, partitions: infos, members: members.merging([self.consumerId: self.registration]) { $1 }, dialect: dialect)
                for info in infos {
                    guard let owner = owners[info.id], owner == self.ownerString(topic: topic, dialect: dialect) else { continue }
                    wanted[TopicPartition(topic, info.id)] = (self.ownerNodes(topic: topic, partition: info, dialect: dialect), owner)
                }
            }
            // Release first, so a member waiting for these partitions can take them.
            for (partition, nodes) in self.owned where wanted[partition]?.nodes != nodes {
                await self.release(nodes)
                self.owned[partition] = nil
            }
            var contested: [TopicPartition] = []
            for (partition, claim) in wanted.sorted(by: { $0.key < $1.key }) where self.owned[partition] == nil {
                var claimed: [String] = []
                for node in claim.nodes {
                    guard try await self.claim(node, owner: claim.owner) else { break }
                    claimed.append(node)
                }
                if claimed.count == claim.nodes.count {
                    self.owned[partition] = claimed
                } else {
                    await self.release(claimed)
                    contested.append(partition)
                }
            }
            if contested.isEmpty {
                self.logger.info("consumer \(self.consumerId) of group \(self.groupId) owns \(self.assignment.map(\.description).joined(separator: ", "))")
                return self.assignment
            }
            if attempt < self.configuration.rebalanceMaxRetries {
                self.logger.info("partitions \(contested.map(\.description).joined(separator: ", ")) are still owned by another consumer; retrying the rebalance")
                try await Task.sleep(for: self.configuration.rebalanceBackoff)
            } else {
                self.logger.warning("consumer \(self.consumerId) could not claim \(contested.map(\.description).joined(separator: ", ")) after \(attempt + 1) attempts; will try again")
                self.changed = true
            }
        }
        return self.assignment
    }

    /// The committed offsets of `partitions` (absent when none).
    public func committed(_ partitions: [TopicPartition]) async throws -> [TopicPartition: Int64] {
        try await ConsumerOffsetStore(client: self.zooKeeper).fetch(group: self.groupId, partitions: partitions).mapValues(\.offset)
    }

    /// Writes `offsets` (the next offset to read) under `/consumers/<group>/offsets`.
    public func commit(_ offsets: [TopicPartition: Int64]) async throws {
        try await ConsumerOffsetStore(client: self.zooKeeper).commit(group: self.groupId, offsets: offsets.mapValues { ($0, "") }, fence: nil)
    }

    /// Releases the owned partitions, deregisters, and stops watching. The caller closes the ZooKeeper client.
    public func leave() async {
        for task in self.watchers { task.cancel() }
        self.watchers = []
        for nodes in self.owned.values { await self.release(nodes) }
        self.owned = [:]
        try? await self.zooKeeper.delete(self.memberPath)
        self.logger.info("consumer \(self.consumerId) left group \(self.groupId)")
    }

    // MARK: Internals

    private func watch<Element: Sendable>(_ stream: AsyncThrowingStream<Element, any Error>) {
        self.watchers.append(Task { [weak self] in
            do {
                for try await _ in stream { await self?.markChanged() }
            } catch {
                // A watched path that is missing or a closed client: nothing left to follow.
            }
        })
    }

    private func markChanged() { self.changed = true }

    /// A new session lost the ephemeral registration and owner nodes: register again and rebalance.
    private func sessionReplaced() async {
        self.owned = [:]
        self.changed = true
        do {
            _ = try await self.zooKeeper.create(self.memberPath, data: self.registration.data, mode: .ephemeral)
            self.logger.info("consumer \(self.consumerId) registered again after its ZooKeeper session expired")
        } catch {
            self.logger.warning("consumer \(self.consumerId) could not register again: \(error)")
        }
    }

    /// Every member's registration (nodes that vanish while being read are skipped).
    private func members() async throws -> [String: BalancedConsumerGroup.Registration] {
        var members: [String: BalancedConsumerGroup.Registration] = [:]
        for id in (try? await self.zooKeeper.children("\(self.groupPath)/ids")) ?? [] {
            if let node = try await self.zooKeeper.getIfExists("\(self.groupPath)/ids/\(id)") {
                members[id] = .parse(node.data)
            }
        }
        return members
    }

    /// Registers the way the group speaks: pykafka counts only members whose node holds the bare topic name. Changing
    /// form re-creates the node, so every member (pykafka's watch is on the children) rebalances again.
    private func adoptDialect(members: [String: BalancedConsumerGroup.Registration]) async throws {
        guard self.topics.count == 1 else { return }
        let dialect = BalancedConsumerGroup.dialect(for: self.topics[0], members: members, me: self.consumerId)
        let wanted: BalancedConsumerGroup.Registration = dialect == .pykafka
            ? .pykafka(topic: self.topics[0])
            : .kafka(subscription: [self.topics[0]: 1], pattern: "static", timestamp: String(Int64(Date().timeIntervalSince1970 * 1000)))
        let current: BalancedConsumerGroup.Dialect = if case .pykafka = self.registration { .pykafka } else { .kafka }
        guard current != dialect else { return }
        self.registration = wanted
        try? await self.zooKeeper.delete(self.memberPath)
        _ = try await self.zooKeeper.create(self.memberPath, data: wanted.data, mode: .ephemeral)
        self.logger.info("consumer \(self.consumerId) now balances \(self.topics[0]) in \(dialect == .pykafka ? "pykafka's" : "Kafka's") dialect")
    }

    /// The owner nodes claiming `partition`. In pykafka's dialect the claim is made twice: pykafka 2.8 on Python 3
    /// formats the topic's name (bytes) into its owner path, so it writes `owners/b'<topic>'/...`; on Python 2 it
    /// writes `owners/<topic>/...`. Holding both excludes either.
    private func ownerNodes(topic: String, partition: BalancedConsumerGroup.PartitionInfo, dialect: BalancedConsumerGroup.Dialect) -> [String] {
        let name = BalancedConsumerGroup.ownerNodeName(partition, dialect: dialect)
        let direct = "\(self.groupPath)/owners/\(topic)/\(name)"
        return dialect == .kafka ? [direct] : [direct, "\(self.groupPath)/owners/b'\(topic)'/\(name)"]
    }

    private func release(_ nodes: [String]) async {
        for node in nodes {
            do { try await self.zooKeeper.delete(node) } catch {}
        }
    }

    private func ownerString(topic: String, dialect: BalancedConsumerGroup.Dialect) -> String {
        dialect == .kafka ? "\(self.consumerId)-0" : self.consumerId
    }

    /// Creates the ephemeral owner node; a node holding our own owner string (left by an earlier attempt) counts.
    private func claim(_ node: String, owner: String) async throws -> Bool {
        do {
            _ = try await self.zooKeeper.create(node, data: Array(owner.utf8), mode: .ephemeral)
            return true
        } catch let error as ZooKeeperError where error.code == .noNode {
            try await self.zooKeeper.createRecursively(String(node[..<node.lastIndex(of: "/")!]))
            return try await self.claim(node, owner: owner)
        } catch let error as ZooKeeperError where error.code == .nodeExists {
            let holder = try await self.zooKeeper.getIfExists(node)
            return holder.map { String(decoding: $0.data, as: UTF8.self) == owner } ?? false
        }
    }
}

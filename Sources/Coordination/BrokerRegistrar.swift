import KafkaModel
import Logging
import ZooKeeper

/// A broker's presence in ZooKeeper (Kafka's `KafkaServer.startup` steps): the persistent paths, `/cluster/id`,
/// and the ephemeral `/brokers/ids/<id>` registration, which it re-creates whenever ZooKeeper replaces an
/// expired session.
public actor BrokerRegistrar {
    public let brokerId: Int32
    private let client: ZooKeeperClient
    private let registration: @Sendable () -> BrokerRegistration
    private let logger: Logger
    private var following: Task<Void, Never>?
    /// The broker epoch: the czxid of the current registration (Kafka's ZooKeeper mode), -1 before registering.
    /// It grows with each re-registration, so the controller can tell a request from an older incarnation.
    public private(set) var brokerEpoch: Int64 = -1

    /// Why the broker may not register.
    public struct Conflict: Error, Hashable, Sendable, CustomStringConvertible {
        public var brokerId: Int32
        public var owner: Int64
        public var description: String {
            "broker.id \(self.brokerId) is already registered in ZooKeeper by a live broker (session \(self.owner.sessionIDDescription)); "
                + "stop that broker or give this one another broker.id"
        }
    }

    /// - Parameter registration: builds the registration JSON; called again for each re-registration so the
    ///   timestamp is fresh.
    public init(brokerId: Int32, client: ZooKeeperClient, logger: Logger = Logger(label: "ferry.registration"),
                registration: @escaping @Sendable () -> BrokerRegistration) {
        self.brokerId = brokerId
        self.client = client
        self.registration = registration
        self.logger = logger
    }

    /// Creates Kafka's persistent top-level paths that are missing.
    public static func ensurePersistentPaths(_ client: ZooKeeperClient) async throws {
        try await self.createMissing(ZNodes.persistentPaths, client)
    }

    /// The cluster id in `/cluster/id`, created (as a random Kafka UUID) by the first broker to get there.
    public static func clusterId(_ client: ZooKeeperClient) async throws -> String {
        while true {
            if let node = try await client.getIfExists(ZNodes.clusterId) { return try ClusterIdZNode.decode(node.data).id }
            try await self.createMissing([ZNodes.clusterId], client, data: [ZNodes.clusterId: ClusterIdZNode(id: KafkaUUID.random().description).zNodeData()])
        }
    }

    /// Prepares a broker's start: the persistent paths, then the cluster id (`ensurePersistentPaths` and `clusterId`
    /// in one step). On a new cluster everything missing, the cluster id included, is created by one transaction.
    public static func prepareCluster(_ client: ZooKeeperClient) async throws -> String {
        if try await client.exists(ZNodes.clusterId) == nil {
            try await self.createMissing(
                ZNodes.persistentPaths + [ZNodes.clusterId], client,
                data: [ZNodes.clusterId: ClusterIdZNode(id: KafkaUUID.random().description).zNodeData()])
        } else {
            try await self.ensurePersistentPaths(client)
        }
        return try await self.clusterId(client)
    }

    /// Creates those of `paths` (and their ancestors) that do not exist.
    ///
    /// Why not one `createRecursively` each: every create goes through the quorum and its transaction log, a failed
    /// one too, and on a new cluster the fifteen-odd sequential writes were most of the broker's start-up time. Reads
    /// are answered by the connected server and pipelined; what is missing is created by one `multi`. A create race
    /// with another broker fails that transaction, and the slow path then creates path by path, ignoring
    /// `NODEEXISTS`.
    static func createMissing(_ paths: [String], _ client: ZooKeeperClient, data: [String: [UInt8]] = [:]) async throws {
        var ordered: [String] = []
        for path in paths {
            for node in ZNodePath.ancestors(of: path) + [path] where !ordered.contains(node) { ordered.append(node) }
        }
        let missing = try await withThrowingTaskGroup(of: String?.self) { group in
            for path in ordered {
                group.addTask { try await client.exists(path) == nil ? path : nil }
            }
            return try await group.reduce(into: Set<String>()) { if let path = $1 { $0.insert(path) } }
        }
        let creates = ordered.filter(missing.contains)
        guard !creates.isEmpty else { return }
        do {
            _ = try await client.multi(creates.map { .create(path: $0, data: data[$0] ?? [], mode: .persistent) })
        } catch let error as ZooKeeperError where error.code == .nodeExists {
            for path in creates {
                do { try await client.create(path, data: data[path] ?? []) } catch let error as ZooKeeperError where error.code == .nodeExists {}
            }
        }
    }

    /// Registers the broker and keeps it registered across session expiries until `deregister()`.
    ///
    /// A registration left by this broker's previous process (killed, so its session has not expired yet) is
    /// waited out for up to `staleSessionWait` (the session timeout): it disappears when its session expires,
    /// while a live broker's never does. Kafka refuses to start until the old session is gone.
    /// - Throws: `Conflict` if another session still holds `/brokers/ids/<id>` after the wait.
    public func register(staleSessionWait: Duration = .zero) async throws {
        let deadline = ContinuousClock.now + staleSessionWait
        while true {
            do {
                try await self.createRegistration()
                break
            } catch let conflict as Conflict {
                guard ContinuousClock.now < deadline else { throw conflict }
                self.logger.warning("\(conflict); waiting up to \(staleSessionWait) for that session to expire")
                let (stat, watch) = try await self.client.existsAndWatch(ZNodes.broker(self.brokerId))
                guard stat != nil else { continue }
                let remaining = deadline - ContinuousClock.now
                let fired = Task { _ = try? await watch.event() }
                let timer = Task {
                    try? await Task.sleep(for: remaining)
                    fired.cancel()
                }
                await fired.value
                timer.cancel()
            }
        }
        let events = self.client.sessionEvents()
        self.following = Task { [weak self] in
            for await event in events {
                guard case .newSession(let session) = event, let self else { continue }
                do {
                    try await self.createRegistration()
                    self.logger.notice("re-registered broker \(self.brokerId) in ZooKeeper after session expiry (session \(session.sessionIDDescription))")
                } catch {
                    self.logger.error("could not re-register broker \(self.brokerId) after session expiry: \(error)")
                }
            }
        }
    }

    private func createRegistration() async throws {
        let path = ZNodes.broker(self.brokerId)
        do {
            try await self.client.create(path, data: self.registration().zNodeData(), mode: .ephemeral)
        } catch let error as ZooKeeperError where error.code == .noNode {
            try await self.client.createRecursively(ZNodes.brokerIds)
            return try await self.createRegistration()
        } catch let error as ZooKeeperError where error.code == .nodeExists {
            // Ours from before a reconnect is fine (Kafka checks the owner the same way); anyone else's is not.
            guard let stat = try await self.client.exists(path) else { return try await self.createRegistration() }
            guard stat.ephemeralOwner == self.client.sessionID else {
                throw Conflict(brokerId: self.brokerId, owner: stat.ephemeralOwner)
            }
        }
        // As Kafka's registerBroker: read the node back for its czxid, the broker epoch.
        guard let stat = try await self.client.exists(path), stat.ephemeralOwner == self.client.sessionID else {
            return try await self.createRegistration()
        }
        self.brokerEpoch = stat.czxid
        self.logger.info("registered broker \(self.brokerId) at \(path) (broker epoch \(stat.czxid))")
    }

    /// Removes the registration (clean shutdown) and stops following the session.
    public func deregister() async {
        self.following?.cancel()
        self.following = nil
        do {
            try await self.client.delete(ZNodes.broker(self.brokerId))
            self.logger.info("deregistered broker \(self.brokerId)")
        } catch {
            self.logger.warning("could not remove \(ZNodes.broker(self.brokerId)): \(error); it goes with the session")
        }
    }
}

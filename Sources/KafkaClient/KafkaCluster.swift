import KafkaModel
import KafkaProtocol
import Logging
import NIOCore

/// A connection whose API versions are known: each request goes at the highest version both sides speak, capped by
/// what the caller's code understands.
public final class NegotiatedConnection: Sendable {
    public let connection: BrokerConnection
    /// The broker's ranges by API key, from its ApiVersions answer.
    public let ranges: [Int16: ClosedRange<Int16>]

    init(connection: BrokerConnection, ranges: [Int16: ClosedRange<Int16>]) {
        self.connection = connection
        self.ranges = ranges
    }

    /// The version to send `Request` at: the highest in both the broker's range and `upTo`.
    public func version<Request: KafkaRequest>(of request: Request.Type, upTo highest: Int16) throws(KafkaClientError) -> Int16 {
        guard let range = self.ranges[Request.apiKey.rawValue] else {
            throw KafkaClientError(.unsupportedVersion, "The broker does not support \(Request.apiKey)")
        }
        let version = min(range.upperBound, highest, Request.validVersions.upperBound)
        guard version >= range.lowerBound, version >= Request.validVersions.lowerBound else {
            throw KafkaClientError(.unsupportedVersion, "The broker does not support \(Request.apiKey) at version \(highest) or below")
        }
        return version
    }

    /// Sends `request` at the negotiated version (see `version(of:upTo:)`).
    public func send<Request: KafkaRequest>(_ request: Request, upTo highest: Int16) async throws -> Request.Response {
        try await self.connection.send(request, version: try self.version(of: Request.self, upTo: highest))
    }

    /// Sends `request` at the negotiated version without waiting for an answer (a Produce with acks=0).
    public func sendOneWay<Request: KafkaRequest>(_ request: Request, upTo highest: Int16) async throws {
        try await self.connection.sendOneWay(request, version: try self.version(of: Request.self, upTo: highest))
    }

    public var isActive: Bool { self.connection.isActive }
}

/// What a Metadata answer says about the cluster.
public struct ClusterMetadata: Sendable {
    public struct Broker: Hashable, Sendable {
        public var id: Int32
        public var address: BrokerAddress
        public var rack: String?
    }

    public struct Partition: Hashable, Sendable {
        public var id: Int32
        public var error: ErrorCode
        /// -1 when there is none.
        public var leader: Int32
        public var leaderEpoch: Int32
        public var replicas: [Int32]
        public var isr: [Int32]
        public var offlineReplicas: [Int32]
    }

    public struct Topic: Sendable {
        public var name: String
        public var error: ErrorCode
        public var id: KafkaUUID
        public var isInternal: Bool
        /// Sorted by partition id.
        public var partitions: [Partition]
    }

    public var clusterId: String?
    public var controllerId: Int32
    public var brokers: [Int32: Broker]
    public var topics: [String: Topic]

    public init(clusterId: String? = nil, controllerId: Int32 = -1, brokers: [Int32: Broker] = [:], topics: [String: Topic] = [:]) {
        self.clusterId = clusterId
        self.controllerId = controllerId
        self.brokers = brokers
        self.topics = topics
    }

    init(_ response: MetadataResponse) {
        self.clusterId = response.clusterId
        self.controllerId = response.controllerId
        self.brokers = Dictionary(response.brokers.map {
            ($0.nodeId, Broker(id: $0.nodeId, address: BrokerAddress(host: $0.host, port: Int($0.port)), rack: $0.rack))
        }, uniquingKeysWith: { first, _ in first })
        self.topics = [:]
        for topic in response.topics {
            guard let name = topic.name else { continue }
            self.topics[name] = Topic(
                name: name, error: ErrorCode(rawValue: topic.errorCode), id: topic.topicId, isInternal: topic.isInternal,
                partitions: topic.partitions.map {
                    Partition(
                        id: $0.partitionIndex, error: ErrorCode(rawValue: $0.errorCode), leader: $0.leaderId, leaderEpoch: $0.leaderEpoch,
                        replicas: $0.replicaNodes, isr: $0.isrNodes, offlineReplicas: $0.offlineReplicas)
                }.sorted { $0.id < $1.id })
        }
    }

    /// The leader of a partition, if the metadata names a live one.
    public func leader(of partition: TopicPartition) -> Int32? {
        guard let leader = self.topics[partition.topic]?.partitions.first(where: { $0.id == partition.partition })?.leader,
              leader >= 0, self.brokers[leader] != nil
        else { return nil }
        return leader
    }
}

/// The client's view of a Kafka cluster: bootstrap, metadata, and one negotiated connection per broker, shared by
/// the producer, consumer and admin built on it. Kafka's `NetworkClient` + `Metadata`, minus the selector loop
/// (SwiftNIO does the I/O; requests on one connection are pipelined and answered in order).
public actor KafkaCluster {
    public struct Configuration: Sendable {
        public var bootstrap: [BrokerAddress]
        public var clientId: String
        public var connectTimeout: Duration
        /// How long one request may wait for its answer.
        public var requestTimeout: Duration

        public init(bootstrap: [BrokerAddress], clientId: String = "ferry", connectTimeout: Duration = .seconds(10),
                    requestTimeout: Duration = .seconds(30)) {
            self.bootstrap = bootstrap
            self.clientId = clientId
            self.connectTimeout = connectTimeout
            self.requestTimeout = requestTimeout
        }
    }

    public nonisolated let configuration: Configuration
    private var connections: [Int32: NegotiatedConnection] = [:]
    private var bootstrapConnection: NegotiatedConnection?
    public private(set) var metadata = ClusterMetadata()
    private let logger: Logger

    public init(_ configuration: Configuration, logger: Logger = Logger(label: "ferry.client")) {
        self.configuration = configuration
        self.logger = logger
    }

    /// A client for `bootstrap.servers`-style text (`host:port,host:port`).
    public init(bootstrapServers: String, clientId: String = "ferry") throws(KafkaClientError) {
        self.init(Configuration(bootstrap: try BrokerAddress.parseList(bootstrapServers), clientId: clientId))
    }

    /// Connects to `address` and asks its API versions.
    private func open(_ address: BrokerAddress) async throws -> NegotiatedConnection {
        let connection = try await BrokerConnection.connect(
            host: address.host, port: address.port, clientId: self.configuration.clientId,
            connectTimeout: TimeAmount(self.configuration.connectTimeout))
        do {
            // v2: the newest non-flexible version, which every broker since Kafka 2.0 answers in the format asked.
            let response = try await connection.send(ApiVersionsRequest(), version: 2)
            guard response.errorCode == 0 else { throw KafkaClientError.kafka(ErrorCode(rawValue: response.errorCode)) }
            let ranges = Dictionary(response.apiKeys.map { ($0.apiKey, $0.minVersion...max($0.minVersion, $0.maxVersion)) }, uniquingKeysWith: { a, _ in a })
            return NegotiatedConnection(connection: connection, ranges: ranges)
        } catch {
            await connection.close()
            throw error
        }
    }

    /// The connection to broker `id`, opened if needed (its address from the metadata).
    public func connection(to id: Int32) async throws -> NegotiatedConnection {
        if let existing = self.connections[id], existing.isActive { return existing }
        if self.metadata.brokers[id] == nil { _ = try await self.refreshMetadata() }
        guard let broker = self.metadata.brokers[id] else {
            throw KafkaClientError(.noBrokerAvailable, "Broker \(id) is not in the cluster's metadata")
        }
        let connection = try await self.open(broker.address)
        if let raced = self.connections[id], raced.isActive {
            await connection.connection.close()
            return raced
        }
        self.connections[id] = connection
        return connection
    }

    /// A connection to any broker: a live one already open, else the known brokers, else the bootstrap list in order.
    public func anyConnection() async throws -> NegotiatedConnection {
        if let open = self.connections.values.first(where: \.isActive) { return open }
        if let bootstrap = self.bootstrapConnection, bootstrap.isActive { return bootstrap }
        var failures: [String] = []
        let known = self.metadata.brokers.values.sorted { $0.id < $1.id }
        for broker in known {
            if let connection = try? await self.connection(to: broker.id) { return connection }
            failures.append(broker.address.description)
        }
        for address in self.configuration.bootstrap {
            do {
                let connection = try await self.open(address)
                self.bootstrapConnection = connection
                return connection
            } catch {
                failures.append("\(address) (\(error))")
            }
        }
        throw KafkaClientError(.noBrokerAvailable, "Could not connect to any broker: \(failures.joined(separator: ", "))")
    }

    /// Asks a broker for metadata: of `topics`, or of every topic when `nil`. Kafka's clients never auto-create from
    /// a metadata request unless asked (`allow.auto.create.topics`).
    @discardableResult
    public func refreshMetadata(topics: [String]? = nil, allowAutoTopicCreation: Bool = false) async throws -> ClusterMetadata {
        var lastError: any Error = KafkaClientError(.noBrokerAvailable, "no broker")
        for _ in 0..<3 {
            let connection = try await self.anyConnection()
            do {
                let request = MetadataRequest(topics: topics.map { $0.map { .init(name: $0) } }, allowAutoTopicCreation: allowAutoTopicCreation)
                let response = try await self.withTimeout { try await connection.send(request, upTo: 12) }
                var fresh = ClusterMetadata(response)
                if let topics {
                    // A partial refresh keeps what it did not ask about.
                    var merged = self.metadata.topics
                    for name in topics { merged[name] = fresh.topics[name] }
                    fresh.topics = merged
                }
                self.metadata = fresh
                return fresh
            } catch {
                lastError = error
                await self.drop(connection)
            }
        }
        throw lastError
    }

    /// Sends `request` to broker `id` (or any broker when `nil`) at the negotiated version, within the request timeout.
    public func send<Request: KafkaRequest>(_ request: Request, to id: Int32?, upTo highest: Int16) async throws -> Request.Response {
        let connection = if let id { try await self.connection(to: id) } else { try await self.anyConnection() }
        do {
            return try await self.withTimeout { try await connection.send(request, upTo: highest) }
        } catch let error as KafkaClientError where error.kind == .timedOut {
            await self.drop(connection)
            throw error
        } catch let error as BrokerConnectionError {
            await self.drop(connection)
            throw KafkaClientError(.noBrokerAvailable, "Connection to \(id.map { "node \($0)" } ?? "the cluster") failed: \(error)")
        }
    }

    /// The controller's id, from fresh metadata.
    public func controller() async throws -> Int32 {
        let metadata = try await self.refreshMetadata(topics: [])
        guard metadata.controllerId >= 0 else { throw KafkaClientError(.kafka(.notController), "The cluster has no controller right now") }
        return metadata.controllerId
    }

    /// Closes every connection; the cluster can still be used afterwards (connections reopen).
    public func close() async {
        for connection in self.connections.values { await connection.connection.close() }
        self.connections = [:]
        if let bootstrap = self.bootstrapConnection { await bootstrap.connection.close() }
        self.bootstrapConnection = nil
    }

    private func drop(_ connection: NegotiatedConnection) async {
        await connection.connection.close()
        self.connections = self.connections.filter { $0.value !== connection }
        if self.bootstrapConnection === connection { self.bootstrapConnection = nil }
    }

    private nonisolated func withTimeout<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let timeout = self.configuration.requestTimeout
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else {
                throw KafkaClientError(.timedOut, "Timed out waiting for a response after \(timeout)")
            }
            return value
        }
    }
}

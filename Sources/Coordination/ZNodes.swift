import Foundation
import KafkaModel

/// Kafka's ZooKeeper layout (ZooKeeper mode, 3.7): every path Ferry reads or writes, and the JSON of each
/// payload, so the cluster looks to ZooKeeper tooling (zkCli, kazoo, pykafka, Kafka's own tools) exactly as
/// an Apache Kafka cluster does. Readers accept every version Kafka ever wrote and ignore unknown keys;
/// writers write what 3.7 writes. Paths are relative to the `zookeeper.connect` chroot.
public enum ZNodes {
    /// The persistent paths a broker creates at start-up if missing (Kafka's `ZkData.PersistentZkPaths`).
    public static let persistentPaths = [
        "/consumers", "/brokers/ids", "/brokers/topics", "/brokers/seqid", "/config/changes", "/config/topics",
        "/config/clients", "/config/users", "/config/brokers", "/config/ips", "/admin/delete_topics",
        "/isr_change_notification", "/latest_producer_id_block", "/log_dir_event_notification",
    ]

    public static let clusterId = "/cluster/id"
    public static let brokerIds = "/brokers/ids"
    public static let brokerTopics = "/brokers/topics"
    public static let controller = "/controller"
    public static let controllerEpoch = "/controller_epoch"
    public static let deleteTopics = "/admin/delete_topics"
    public static let preferredReplicaElection = "/admin/preferred_replica_election"
    public static let reassignPartitions = "/admin/reassign_partitions"
    public static let isrChangeNotification = "/isr_change_notification"
    public static let configChanges = "/config/changes"
    public static let topicConfigs = "/config/topics"
    public static let brokerConfigs = "/config/brokers"
    public static let producerIdBlock = "/latest_producer_id_block"

    public static func broker(_ id: Int32) -> String { "/brokers/ids/\(id)" }
    public static func topic(_ topic: String) -> String { "/brokers/topics/\(topic)" }
    public static func partitions(_ topic: String) -> String { "/brokers/topics/\(topic)/partitions" }
    public static func partition(_ topic: String, _ partition: Int32) -> String { "/brokers/topics/\(topic)/partitions/\(partition)" }
    public static func partitionState(_ topic: String, _ partition: Int32) -> String {
        "/brokers/topics/\(topic)/partitions/\(partition)/state"
    }
    public static func topicConfig(_ topic: String) -> String { "/config/topics/\(topic)" }
    public static func brokerConfig(_ id: String) -> String { "/config/brokers/\(id)" }
    public static func deleteTopic(_ topic: String) -> String { "/admin/delete_topics/\(topic)" }
    public static func consumerOffset(group: String, topic: String, partition: Int32) -> String {
        "/consumers/\(group)/offsets/\(topic)/\(partition)"
    }
}

/// A znode payload that could not be read.
public struct ZNodeDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "cannot read \(self.path): \(self.reason)" }
}

private let encoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return encoder
}()

extension Encodable {
    /// The JSON bytes Kafka's tooling expects for this payload.
    public func zNodeData() -> [UInt8] { Array(try! encoder.encode(self)) }  // our own value types always encode
}

func decodeZNode<T: Decodable>(_ type: T.Type, _ data: [UInt8], path: String) throws -> T {
    do {
        return try JSONDecoder().decode(T.self, from: Data(data))
    } catch {
        throw ZNodeDecodingError(path: path, reason: "\(error)")
    }
}

/// `/cluster/id`: `{"version":"1","id":"<22-char base64 UUID>"}` (the version is a string here).
public struct ClusterIdZNode: Codable, Hashable, Sendable {
    public var version = "1"
    public var id: String

    public init(id: String) { self.id = id }

    public static func decode(_ data: [UInt8]) throws -> Self { try decodeZNode(Self.self, data, path: ZNodes.clusterId) }
}

/// `/brokers/ids/<id>` (ephemeral): the broker registration, written as version 5.
public struct BrokerRegistration: Codable, Hashable, Sendable {
    public var version: Int = 5
    /// The first PLAINTEXT endpoint, for old clients; `nil`/-1 without one.
    public var host: String?
    public var port: Int32
    public var jmxPort: Int32 = -1
    /// Registration time, epoch milliseconds, as a string.
    public var timestamp: String
    /// `LISTENER://host:port` for each advertised listener (v2+).
    public var endpoints: [String]
    public var rack: String?
    public var listenerSecurityProtocolMap: [String: String]?
    public var features: [String: [String: Int32]]?

    enum CodingKeys: String, CodingKey {
        case version, host, port, timestamp, endpoints, rack, features
        case jmxPort = "jmx_port"
        case listenerSecurityProtocolMap = "listener_security_protocol_map"
    }

    public init(endpoints: [(listener: String, host: String, port: Int32)], rack: String?, timestamp: Int64) {
        let plaintext = endpoints.first { $0.listener == "PLAINTEXT" }
        self.host = plaintext?.host
        self.port = plaintext?.port ?? -1
        self.timestamp = String(timestamp)
        self.endpoints = endpoints.map { "\($0.listener)://\($0.host):\($0.port)" }
        self.rack = rack
        self.listenerSecurityProtocolMap = Dictionary(endpoints.map { ($0.listener, $0.listener) }, uniquingKeysWith: { first, _ in first })
        self.features = [:]
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.version = try container.decode(Int.self, forKey: .version)
        self.host = try container.decodeIfPresent(String.self, forKey: .host)
        self.port = try container.decodeIfPresent(Int32.self, forKey: .port) ?? -1
        self.jmxPort = try container.decodeIfPresent(Int32.self, forKey: .jmxPort) ?? -1
        self.timestamp = try container.decodeIfPresent(String.self, forKey: .timestamp) ?? "0"
        // Version 1 registrations have only host and port.
        let (host, port) = (self.host, self.port)
        self.endpoints = try container.decodeIfPresent([String].self, forKey: .endpoints)
            ?? (host.map { ["PLAINTEXT://\($0):\(port)"] } ?? [])
        self.rack = try container.decodeIfPresent(String.self, forKey: .rack)
        self.listenerSecurityProtocolMap = try container.decodeIfPresent([String: String].self, forKey: .listenerSecurityProtocolMap)
        self.features = try container.decodeIfPresent([String: [String: Int32]].self, forKey: .features)
    }

    /// The endpoints as (listener, host, port).
    public var parsedEndpoints: [(listener: String, host: String, port: Int32)] {
        self.endpoints.compactMap { endpoint in
            guard let scheme = endpoint.range(of: "://"), let colon = endpoint.lastIndex(of: ":"), colon > scheme.upperBound,
                  let port = Int32(endpoint[endpoint.index(after: colon)...])
            else { return nil }
            var host = String(endpoint[scheme.upperBound..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            return (String(endpoint[..<scheme.lowerBound]), host, port)
        }
    }

    /// The endpoint clients and other brokers are given: the PLAINTEXT listener's, else the first.
    public var clientEndpoint: (listener: String, host: String, port: Int32)? {
        let endpoints = self.parsedEndpoints
        return endpoints.first { $0.listener == "PLAINTEXT" } ?? endpoints.first
    }

    public static func decode(_ data: [UInt8], id: Int32) throws -> Self { try decodeZNode(Self.self, data, path: ZNodes.broker(id)) }
}

/// `/brokers/topics/<topic>`: the replica assignment, written as version 3.
public struct TopicAssignment: Codable, Hashable, Sendable {
    public var version: Int = 3
    /// Partition id (as a string in the JSON) to its ordered replica list; the first replica is the preferred leader.
    public var partitions: [Int32: [Int32]]
    public var addingReplicas: [Int32: [Int32]] = [:]
    public var removingReplicas: [Int32: [Int32]] = [:]
    /// The 22-character topic id, if assigned (v3; tolerated as missing).
    public var topicId: String?

    enum CodingKeys: String, CodingKey {
        case version, partitions
        case addingReplicas = "adding_replicas"
        case removingReplicas = "removing_replicas"
        case topicId = "topic_id"
    }

    public init(partitions: [Int32: [Int32]], topicId: String? = nil) {
        self.partitions = partitions
        self.topicId = topicId
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.version = try container.decode(Int.self, forKey: .version)
        self.partitions = try Self.partitionMap(container.decode([String: [Int32]].self, forKey: .partitions))
        self.addingReplicas = try Self.partitionMap(container.decodeIfPresent([String: [Int32]].self, forKey: .addingReplicas) ?? [:])
        self.removingReplicas = try Self.partitionMap(container.decodeIfPresent([String: [Int32]].self, forKey: .removingReplicas) ?? [:])
        self.topicId = try container.decodeIfPresent(String.self, forKey: .topicId)
    }

    private static func partitionMap(_ raw: [String: [Int32]]) throws -> [Int32: [Int32]] {
        try Dictionary(uniqueKeysWithValues: raw.map { key, value in
            guard let partition = Int32(key) else {
                throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "partition id '\(key)' is not a number"))
            }
            return (partition, value)
        })
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        func strings(_ map: [Int32: [Int32]]) -> [String: [Int32]] { Dictionary(uniqueKeysWithValues: map.map { (String($0), $1) }) }
        try container.encode(self.version, forKey: .version)
        try container.encode(strings(self.partitions), forKey: .partitions)
        try container.encode(strings(self.addingReplicas), forKey: .addingReplicas)
        try container.encode(strings(self.removingReplicas), forKey: .removingReplicas)
        try container.encodeIfPresent(self.topicId, forKey: .topicId)
    }

    public static func decode(_ data: [UInt8], topic: String) throws -> Self { try decodeZNode(Self.self, data, path: ZNodes.topic(topic)) }
}

/// `/brokers/topics/<t>/partitions/<p>/state`: leader and ISR. The znode's version is the partition epoch.
public struct PartitionStateZNode: Codable, Hashable, Sendable {
    public var version: Int = 1
    /// The leader's broker id; -1 when the partition has no leader.
    public var leader: Int32
    public var leaderEpoch: Int32
    public var isr: [Int32]
    public var controllerEpoch: Int32
    /// 1 (RECOVERING) after an unclean election; absent means recovered.
    public var leaderRecoveryState: Int8?

    enum CodingKeys: String, CodingKey {
        case version, leader, isr
        case leaderEpoch = "leader_epoch"
        case controllerEpoch = "controller_epoch"
        case leaderRecoveryState = "leader_recovery_state"
    }

    public init(leader: Int32, leaderEpoch: Int32, isr: [Int32], controllerEpoch: Int32, leaderRecoveryState: Int8? = nil) {
        self.leader = leader
        self.leaderEpoch = leaderEpoch
        self.isr = isr
        self.controllerEpoch = controllerEpoch
        self.leaderRecoveryState = leaderRecoveryState
    }

    public static func decode(_ data: [UInt8], topic: String, partition: Int32) throws -> Self {
        try decodeZNode(Self.self, data, path: ZNodes.partitionState(topic, partition))
    }
}

/// `/controller` (ephemeral): who the controller is, written as version 2.
public struct ControllerZNode: Codable, Hashable, Sendable {
    public var version: Int = 2
    public var brokerid: Int32
    public var timestamp: String
    /// -1 for a ZooKeeper-mode controller (KRaft migrations write a non-negative epoch).
    public var kraftControllerEpoch: Int32?

    public init(brokerId: Int32, timestamp: Int64) {
        self.brokerid = brokerId
        self.timestamp = String(timestamp)
        self.kraftControllerEpoch = -1
    }

    public static func decode(_ data: [UInt8]) throws -> Self { try decodeZNode(Self.self, data, path: ZNodes.controller) }
}

/// `/controller_epoch`: a bare decimal integer.
public enum ControllerEpochZNode {
    public static func encode(_ epoch: Int32) -> [UInt8] { Array(String(epoch).utf8) }

    public static func decode(_ data: [UInt8]) throws -> Int32 {
        guard let epoch = Int32(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespaces)) else {
            throw ZNodeDecodingError(path: ZNodes.controllerEpoch, reason: "not an integer")
        }
        return epoch
    }
}

/// `/config/<type>/<name>`: `{"version":1,"config":{"key":"value"}}`; values are always strings.
public struct EntityConfigZNode: Codable, Hashable, Sendable {
    public var version: Int = 1
    public var config: [String: String]

    public init(config: [String: String]) { self.config = config }

    public static func decode(_ data: [UInt8], path: String) throws -> Self { try decodeZNode(Self.self, data, path: path) }
}

/// `/config/changes/config_change_<seq>`: which entity's config changed (v2; v1 read too).
public struct ConfigChangeNotification: Codable, Hashable, Sendable {
    public var version: Int = 2
    public var entityPath: String?
    public var entityType: String?
    public var entityName: String?

    enum CodingKeys: String, CodingKey {
        case version
        case entityPath = "entity_path"
        case entityType = "entity_type"
        case entityName = "entity_name"
    }

    public init(entityPath: String) { self.entityPath = entityPath }

    /// `topics/<name>` for either version.
    public var path: String? { self.entityPath ?? self.entityType.flatMap { type in self.entityName.map { "\(type)/\($0)" } } }

    public static func decode(_ data: [UInt8]) throws -> Self { try decodeZNode(Self.self, data, path: ZNodes.configChanges) }
}

/// `/admin/reassign_partitions`: `{"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1,2]}]}`, the
/// legacy reassignment request (`kafka-reassign-partitions.sh --zookeeper`).
public struct ReassignPartitionsZNode: Codable, Hashable, Sendable {
    public struct Entry: Codable, Hashable, Sendable {
        public var topic: String
        public var partition: Int32
        public var replicas: [Int32]

        public init(topic: String, partition: Int32, replicas: [Int32]) {
            self.topic = topic
            self.partition = partition
            self.replicas = replicas
        }
    }

    public var version: Int = 1
    public var partitions: [Entry]

    public init(partitions: [Entry]) { self.partitions = partitions }

    public static func decode(_ data: [UInt8]) throws -> Self { try decodeZNode(Self.self, data, path: ZNodes.reassignPartitions) }
}

/// `{"version":1,"partitions":[{"topic":"t","partition":0}]}` (ISR change notifications, preferred election).
public struct PartitionListZNode: Codable, Hashable, Sendable {
    public struct Entry: Codable, Hashable, Sendable {
        public var topic: String
        public var partition: Int32
    }

    public var version: Int = 1
    public var partitions: [Entry]

    public init(partitions: [TopicPartition]) {
        self.partitions = partitions.map { Entry(topic: $0.topic, partition: $0.partition) }
    }

    public var topicPartitions: [TopicPartition] { self.partitions.map { TopicPartition($0.topic, $0.partition) } }

    public static func decode(_ data: [UInt8], path: String) throws -> Self { try decodeZNode(Self.self, data, path: path) }
}

/// `/latest_producer_id_block`: the last block of 1000 producer ids handed out (bounds as strings).
public struct ProducerIdBlockZNode: Codable, Hashable, Sendable {
    public var version: Int = 1
    public var broker: Int32
    public var blockStart: String
    public var blockEnd: String

    enum CodingKeys: String, CodingKey {
        case version, broker
        case blockStart = "block_start"
        case blockEnd = "block_end"
    }

    public init(broker: Int32, start: Int64, end: Int64) {
        self.broker = broker
        self.blockStart = String(start)
        self.blockEnd = String(end)
    }

    public var range: ClosedRange<Int64>? {
        guard let start = Int64(self.blockStart), let end = Int64(self.blockEnd), start <= end else { return nil }
        return start...end
    }

    public static func decode(_ data: [UInt8]) throws -> Self { try decodeZNode(Self.self, data, path: ZNodes.producerIdBlock) }
}

import Coordination
import Foundation
import LogStorage
import ZooKeeper

/// A listener: `NAME://host:port`. An empty host means every interface.
public struct Listener: Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var host: String
    public var port: Int

    public var description: String { "\(self.name)://\(self.host.contains(":") ? "[\(self.host)]" : self.host):\(self.port)" }
}

/// A `server.properties` value that cannot be used: one line naming the key, the value and what is allowed.
public struct BrokerConfigError: Error, Hashable, Sendable, CustomStringConvertible {
    public var key: String
    public var value: String
    public var allowed: String

    public var description: String { "Invalid value '\(self.value)' for configuration \(self.key): \(self.allowed)" }
}

/// The broker's configuration: Kafka's `server.properties` keys (SPEC section 4) with Kafka's defaults, mapped
/// to typed fields in this one place.
public struct BrokerConfig: Sendable {
    public var brokerId: Int32 = -1
    public var listeners: [Listener] = [Listener(name: "PLAINTEXT", host: "", port: 9092)]
    /// What clients are told to connect to; defaults to `listeners`.
    public var advertisedListeners: [Listener]?
    public var logDirs: [String] = ["/tmp/kafka-logs"]
    public var numPartitions: Int32 = 1
    public var defaultReplicationFactor: Int16 = 1
    public var zookeeperConnect: ConnectString?
    public var zookeeperSessionTimeoutMs: Int = 18_000
    public var zookeeperConnectionTimeoutMs: Int?
    /// The defaults of every log (`log.*` keys), overridable per topic.
    public var log = LogConfig()
    public var logRetentionCheckIntervalMs: Int64 = 300_000
    /// `log.cleaner.enable` and `log.cleaner.backoff.ms`: whether and how often compacted logs are cleaned.
    public var logCleanerEnable = true
    public var logCleanerBackoffMs: Int64 = 15_000
    /// `log.cleaner.dedupe.buffer.size`: the memory a cleaning's key map may take (Kafka's default, 128 MiB).
    public var logCleanerDedupeBufferSize = LogCleaner.defaultKeyMapBytes
    /// `producer.id.expiration.ms`: how long a partition remembers an idle idempotent producer (Kafka 3.x's default,
    /// one day); checked with the other log maintenance, every `log.retention.check.interval.ms`.
    public var producerIdExpirationMs: Int64 = 86_400_000
    public var autoCreateTopicsEnable = true
    public var deleteTopicEnable = true
    public var uncleanLeaderElectionEnable = false
    public var minInsyncReplicas: Int32 = 1
    public var replicaLagTimeMaxMs: Int64 = 10_000
    /// `controlled.shutdown.enable`: on SIGTERM, ask the controller to move this broker's leaderships first.
    public var controlledShutdownEnable = true
    public var controlledShutdownMaxRetries = 3
    /// `auto.leader.rebalance.enable`, `leader.imbalance.check.interval.seconds`, `leader.imbalance.per.broker.percentage`.
    public var autoLeaderRebalanceEnable = true
    public var leaderImbalanceCheckIntervalSeconds: Int64 = 300
    public var leaderImbalancePerBrokerPercentage = 10
    public var controlledShutdownRetryBackoffMs: Int64 = 5_000
    public var messageMaxBytes: Int32 = 1_048_588
    public var socketRequestMaxBytes: Int32 = 104_857_600
    public var brokerRack: String?
    public var offsetsRetentionMinutes: Int64 = 10_080
    public var groupInitialRebalanceDelayMs: Int64 = 3_000
    /// `offsets.topic.num.partitions`: the partitions of `__consumer_offsets`, whose leaders are the group coordinators.
    public var offsetsTopicNumPartitions: Int32 = 50
    /// `offsets.topic.replication.factor`: capped at the live brokers when the topic is created (with a warning).
    public var offsetsTopicReplicationFactor: Int16 = 3
    public var offsetsRetentionCheckIntervalMs: Int64 = 600_000
    public var offsetMetadataMaxBytes: Int32 = 4_096
    public var groupMinSessionTimeoutMs: Int32 = 6_000
    public var groupMaxSessionTimeoutMs: Int32 = 1_800_000
    public var groupMaxSize: Int32 = Int32.max
    /// `producer` keeps the producer's codec; otherwise batches are stored in this one.
    public var compressionType = "producer"
    /// Lines worth a warning: unknown keys, stripped inline comments.
    public private(set) var warnings: [String] = []
    /// The keys and values as given (file and overrides), for DescribeConfigs' STATIC_BROKER_CONFIG source.
    public private(set) var given: [String: String] = [:]

    public init() {}

    /// The settings DescribeConfigs reports for this broker, with their effective values.
    public func describedValues() -> [(key: String, value: String?)] {
        [
            ("broker.id", String(self.brokerId)),
            ("listeners", self.listeners.map(\.description).joined(separator: ",")),
            ("advertised.listeners", self.advertisedListeners.map { $0.map(\.description).joined(separator: ",") }),
            ("log.dirs", self.logDirs.joined(separator: ",")),
            ("num.partitions", String(self.numPartitions)),
            ("default.replication.factor", String(self.defaultReplicationFactor)),
            ("zookeeper.connect", self.given["zookeeper.connect"]),
            ("zookeeper.session.timeout.ms", String(self.zookeeperSessionTimeoutMs)),
            ("zookeeper.connection.timeout.ms", self.zookeeperConnectionTimeoutMs.map(String.init)),
            ("log.retention.ms", self.given["log.retention.ms"]),
            ("log.retention.minutes", self.given["log.retention.minutes"]),
            ("log.retention.hours", self.given["log.retention.hours"] ?? "168"),
            ("log.retention.bytes", String(self.log.retentionBytes)),
            ("log.segment.bytes", String(self.log.segmentBytes)),
            ("log.roll.ms", self.given["log.roll.ms"]),
            ("log.roll.hours", self.given["log.roll.hours"] ?? "168"),
            ("log.index.size.max.bytes", String(self.log.maxIndexBytes)),
            ("log.index.interval.bytes", String(self.log.indexIntervalBytes)),
            ("log.retention.check.interval.ms", String(self.logRetentionCheckIntervalMs)),
            ("log.cleaner.enable", String(self.logCleanerEnable)),
            ("log.cleaner.backoff.ms", String(self.logCleanerBackoffMs)),
            ("log.cleaner.dedupe.buffer.size", String(self.logCleanerDedupeBufferSize)),
            ("producer.id.expiration.ms", String(self.producerIdExpirationMs)),
            ("log.cleanup.policy", TopicConfigs.cleanupPolicy(self.log)),
            ("log.cleaner.delete.retention.ms", String(self.log.deleteRetentionMs)),
            ("log.cleaner.min.cleanable.ratio", String(self.log.minCleanableDirtyRatio)),
            ("log.cleaner.min.compaction.lag.ms", String(self.log.minCompactionLagMs)),
            ("log.cleaner.max.compaction.lag.ms", String(self.log.maxCompactionLagMs)),
            ("log.flush.interval.messages", String(self.log.flushMessages)),
            ("log.flush.interval.ms", self.given["log.flush.interval.ms"]),
            ("log.message.timestamp.type", self.log.useLogAppendTime ? "LogAppendTime" : "CreateTime"),
            ("auto.create.topics.enable", String(self.autoCreateTopicsEnable)),
            ("delete.topic.enable", String(self.deleteTopicEnable)),
            ("unclean.leader.election.enable", String(self.uncleanLeaderElectionEnable)),
            ("min.insync.replicas", String(self.minInsyncReplicas)),
            ("replica.lag.time.max.ms", String(self.replicaLagTimeMaxMs)),
            ("message.max.bytes", String(self.messageMaxBytes)),
            ("socket.request.max.bytes", String(self.socketRequestMaxBytes)),
            ("broker.rack", self.brokerRack),
            ("offsets.retention.minutes", String(self.offsetsRetentionMinutes)),
            ("group.initial.rebalance.delay.ms", String(self.groupInitialRebalanceDelayMs)),
            ("offsets.topic.num.partitions", String(self.offsetsTopicNumPartitions)),
            ("offsets.topic.replication.factor", String(self.offsetsTopicReplicationFactor)),
            ("offsets.retention.check.interval.ms", String(self.offsetsRetentionCheckIntervalMs)),
            ("offset.metadata.max.bytes", String(self.offsetMetadataMaxBytes)),
            ("group.min.session.timeout.ms", String(self.groupMinSessionTimeoutMs)),
            ("group.max.session.timeout.ms", String(self.groupMaxSessionTimeoutMs)),
            ("group.max.size", String(self.groupMaxSize)),
            ("compression.type", self.compressionType),
        ]
    }

    /// The listeners clients are told about.
    public var effectiveAdvertisedListeners: [Listener] { self.advertisedListeners ?? self.listeners }

    /// Reads `server.properties` text with `overrides` (`--override key=value`) applied last.
    /// - Throws: `BrokerConfigError` for the first unusable value.
    public static func parse(_ text: String, overrides: [String: String] = [:]) throws(BrokerConfigError) -> BrokerConfig {
        var values: [String: String] = [:]
        var config = BrokerConfig()
        for entry in PropertiesFile.parse(text) {
            values[entry.key] = entry.value
            if let comment = entry.strippedComment {
                config.warnings.append("line \(entry.line): ignored the comment '#\(comment)' after the value of \(entry.key)")
            }
        }
        values.merge(overrides) { _, override in override }
        try config.apply(values)
        return config
    }

    private mutating func apply(_ values: [String: String]) throws(BrokerConfigError) {
        self.given = values
        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
            if let setter = Self.keys[key] {
                try setter(&self, key, value)
            } else if !Self.acceptedWithoutEffect.contains(key) {
                self.warnings.append("unknown configuration '\(key)' is ignored")
            }
        }
        // Old single-listener keys (Kafka 0.8-0.10 files, as in the seeds) apply when listeners is absent.
        if values["listeners"] == nil, values["port"] != nil || values["host.name"] != nil {
            let port = try Self.integer("port", values["port"] ?? "9092", 1...65535)
            self.listeners = [Listener(name: "PLAINTEXT", host: values["host.name"] ?? "", port: port)]
        }
        if values["advertised.listeners"] == nil, values["advertised.host.name"] != nil || values["advertised.port"] != nil {
            let port = try Self.integer("advertised.port", values["advertised.port"] ?? String(self.listeners[0].port), 1...65535)
            self.advertisedListeners = [Listener(name: "PLAINTEXT", host: values["advertised.host.name"] ?? self.listeners[0].host, port: port)]
        }
        // Retention: ms over minutes over hours, as Kafka.
        if let ms = values["log.retention.ms"] {
            self.log.retentionMs = try Self.integer("log.retention.ms", ms, -1...Int64.max)
        } else if let minutes = values["log.retention.minutes"] {
            self.log.retentionMs = try Self.integer("log.retention.minutes", minutes, -1...Int64.max / 60_000).withMultiplier(60_000)
        } else if let hours = values["log.retention.hours"] {
            self.log.retentionMs = try Self.integer("log.retention.hours", hours, -1...Int64.max / 3_600_000).withMultiplier(3_600_000)
        }
        if let ms = values["log.roll.ms"] {
            self.log.segmentMs = try Self.integer("log.roll.ms", ms, 1...Int64.max)
        } else if let hours = values["log.roll.hours"] {
            self.log.segmentMs = try Self.integer("log.roll.hours", hours, 1...Int64.max / 3_600_000) * 3_600_000
        }
        guard self.zookeeperConnect != nil else {
            throw BrokerConfigError(key: "zookeeper.connect", value: "", allowed: "required: the ZooKeeper ensemble, host:port[,host:port...][/chroot]")
        }
        if let advertised = self.advertisedListeners {
            for listener in advertised where listener.host.isEmpty || listener.host == "0.0.0.0" {
                throw BrokerConfigError(key: "advertised.listeners", value: "\(listener)", allowed: "a host clients can connect to, not an empty or wildcard address")
            }
        }
    }

    /// The keys Ferry applies while running (Coordination's `TopicConfigRules.dynamicBrokerKeys`).
    public static var dynamicKeys: Set<String> { TopicConfigRules.dynamicBrokerKeys }

    /// This configuration with dynamic values (`/config/brokers/<default>` then `/config/brokers/<id>`, the latter
    /// winning) applied over the static ones. `given` stays the static file's, for DescribeConfigs' sources.
    /// - Throws: `BrokerConfigError` for a key that cannot change at run time or an unusable value.
    public func applyingDynamic(_ values: [String: String]) throws(BrokerConfigError) -> BrokerConfig {
        var config = self
        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
            guard Self.dynamicKeys.contains(key) else {
                throw BrokerConfigError(key: key, value: value, allowed: "not a config that can be updated dynamically")
            }
            switch key {
            case "log.retention.ms": config.log.retentionMs = try Self.integer(key, value, -1...Int64.max)
            case "log.roll.ms": config.log.segmentMs = try Self.integer(key, value, 1...Int64.max)
            default: try Self.keys[key]!(&config, key, value)
            }
        }
        return config
    }

    private typealias Setter = @Sendable (inout BrokerConfig, String, String) throws(BrokerConfigError) -> Void

    private static let keys: [String: Setter] = [
        "broker.id": { config, key, value throws(BrokerConfigError) in config.brokerId = try integer(key, value, -1...Int32.max) },
        "listeners": { config, key, value throws(BrokerConfigError) in config.listeners = try listeners(key, value) },
        "advertised.listeners": { config, key, value throws(BrokerConfigError) in config.advertisedListeners = try listeners(key, value) },
        "log.dirs": { config, key, value throws(BrokerConfigError) in config.logDirs = try list(key, value) },
        "log.dir": { config, key, value throws(BrokerConfigError) in config.logDirs = try list(key, value) },
        "num.partitions": { config, key, value throws(BrokerConfigError) in config.numPartitions = try integer(key, value, 1...Int32.max) },
        "default.replication.factor": { config, key, value throws(BrokerConfigError) in
            config.defaultReplicationFactor = try integer(key, value, 1...Int16.max)
        },
        "zookeeper.connect": { config, key, value throws(BrokerConfigError) in
            do {
                config.zookeeperConnect = try ConnectString(parsing: value)
            } catch let error as ConnectStringError {
                throw BrokerConfigError(key: key, value: value, allowed: error.reason)
            } catch {
                throw BrokerConfigError(key: key, value: value, allowed: "\(error)")
            }
        },
        "zookeeper.session.timeout.ms": { config, key, value throws(BrokerConfigError) in
            config.zookeeperSessionTimeoutMs = try integer(key, value, 1...Int(Int32.max))
        },
        "zookeeper.connection.timeout.ms": { config, key, value throws(BrokerConfigError) in
            config.zookeeperConnectionTimeoutMs = try integer(key, value, 1...Int(Int32.max))
        },
        "log.retention.bytes": { config, key, value throws(BrokerConfigError) in config.log.retentionBytes = try integer(key, value, -1...Int64.max) },
        "log.segment.bytes": { config, key, value throws(BrokerConfigError) in config.log.segmentBytes = try integer(key, value, 14...Int(Int32.max)) },
        "log.index.size.max.bytes": { config, key, value throws(BrokerConfigError) in config.log.maxIndexBytes = try integer(key, value, 4...Int(Int32.max)) },
        "log.index.interval.bytes": { config, key, value throws(BrokerConfigError) in config.log.indexIntervalBytes = try integer(key, value, 0...Int(Int32.max)) },
        "log.retention.check.interval.ms": { config, key, value throws(BrokerConfigError) in
            config.logRetentionCheckIntervalMs = try integer(key, value, 1...Int64.max)
        },
        "log.cleaner.enable": { config, key, value throws(BrokerConfigError) in config.logCleanerEnable = try boolean(key, value) },
        "log.cleaner.backoff.ms": { config, key, value throws(BrokerConfigError) in config.logCleanerBackoffMs = try integer(key, value, 0...Int64.max) },
        "producer.id.expiration.ms": { config, key, value throws(BrokerConfigError) in
            config.producerIdExpirationMs = try integer(key, value, 1...Int64.max)
        },
        "log.cleaner.dedupe.buffer.size": { config, key, value throws(BrokerConfigError) in
            config.logCleanerDedupeBufferSize = try integer(key, value, 0...Int.max)
        },
        "log.cleaner.delete.retention.ms": { config, key, value throws(BrokerConfigError) in config.log.deleteRetentionMs = try integer(key, value, 0...Int64.max) },
        "log.cleaner.min.compaction.lag.ms": { config, key, value throws(BrokerConfigError) in
            config.log.minCompactionLagMs = try integer(key, value, 0...Int64.max)
        },
        "log.cleaner.max.compaction.lag.ms": { config, key, value throws(BrokerConfigError) in
            config.log.maxCompactionLagMs = try integer(key, value, 1...Int64.max)
        },
        "log.cleaner.min.cleanable.ratio": { config, key, value throws(BrokerConfigError) in
            guard let ratio = Double(value), ratio >= 0, ratio <= 1 else { throw BrokerConfigError(key: key, value: value, allowed: "a number from 0 to 1") }
            config.log.minCleanableDirtyRatio = ratio
        },
        "log.flush.interval.messages": { config, key, value throws(BrokerConfigError) in config.log.flushMessages = try integer(key, value, 1...Int64.max) },
        "log.flush.interval.ms": { config, key, value throws(BrokerConfigError) in config.log.flushMs = try integer(key, value, 0...Int64.max) },
        "log.message.timestamp.type": { config, key, value throws(BrokerConfigError) in
            guard value == "CreateTime" || value == "LogAppendTime" else {
                throw BrokerConfigError(key: key, value: value, allowed: "CreateTime or LogAppendTime")
            }
            config.log.useLogAppendTime = value == "LogAppendTime"
        },
        "log.cleanup.policy": { config, key, value throws(BrokerConfigError) in
            let policies = value.split(separator: ",").map { String($0).trimmingWhitespace() }
            guard !policies.isEmpty, policies.allSatisfy({ $0 == "compact" || $0 == "delete" }) else {
                throw BrokerConfigError(key: key, value: value, allowed: "delete, compact, or compact,delete")
            }
            config.log.deletesByRetention = policies.contains("delete")
            config.log.compacts = policies.contains("compact")
        },
        "auto.create.topics.enable": { config, key, value throws(BrokerConfigError) in config.autoCreateTopicsEnable = try boolean(key, value) },
        "delete.topic.enable": { config, key, value throws(BrokerConfigError) in config.deleteTopicEnable = try boolean(key, value) },
        "unclean.leader.election.enable": { config, key, value throws(BrokerConfigError) in config.uncleanLeaderElectionEnable = try boolean(key, value) },
        "min.insync.replicas": { config, key, value throws(BrokerConfigError) in config.minInsyncReplicas = try integer(key, value, 1...Int32.max) },
        "controlled.shutdown.enable": { config, key, value throws(BrokerConfigError) in config.controlledShutdownEnable = try boolean(key, value) },
        "auto.leader.rebalance.enable": { config, key, value throws(BrokerConfigError) in config.autoLeaderRebalanceEnable = try boolean(key, value) },
        "leader.imbalance.check.interval.seconds": { config, key, value throws(BrokerConfigError) in
            config.leaderImbalanceCheckIntervalSeconds = try integer(key, value, 1...Int64.max)
        },
        "leader.imbalance.per.broker.percentage": { config, key, value throws(BrokerConfigError) in
            config.leaderImbalancePerBrokerPercentage = try integer(key, value, 0...100)
        },
        "controlled.shutdown.max.retries": { config, key, value throws(BrokerConfigError) in
            config.controlledShutdownMaxRetries = try integer(key, value, 0...Int.max)
        },
        "controlled.shutdown.retry.backoff.ms": { config, key, value throws(BrokerConfigError) in
            config.controlledShutdownRetryBackoffMs = try integer(key, value, 0...Int64.max)
        },
        "replica.lag.time.max.ms": { config, key, value throws(BrokerConfigError) in config.replicaLagTimeMaxMs = try integer(key, value, 1...Int64.max) },
        "message.max.bytes": { config, key, value throws(BrokerConfigError) in config.messageMaxBytes = try integer(key, value, 0...Int32.max) },
        "socket.request.max.bytes": { config, key, value throws(BrokerConfigError) in config.socketRequestMaxBytes = try integer(key, value, 1...Int32.max) },
        "broker.rack": { config, _, value in config.brokerRack = value.isEmpty ? nil : value },
        "offsets.retention.minutes": { config, key, value throws(BrokerConfigError) in config.offsetsRetentionMinutes = try integer(key, value, 1...Int64.max) },
        "group.initial.rebalance.delay.ms": { config, key, value throws(BrokerConfigError) in
            config.groupInitialRebalanceDelayMs = try integer(key, value, 0...Int64.max)
        },
        "offsets.topic.num.partitions": { config, key, value throws(BrokerConfigError) in config.offsetsTopicNumPartitions = try integer(key, value, 1...Int32.max) },
        "offsets.topic.replication.factor": { config, key, value throws(BrokerConfigError) in config.offsetsTopicReplicationFactor = try integer(key, value, 1...Int16.max) },
        "offsets.retention.check.interval.ms": { config, key, value throws(BrokerConfigError) in config.offsetsRetentionCheckIntervalMs = try integer(key, value, 1...Int64.max) },
        "offset.metadata.max.bytes": { config, key, value throws(BrokerConfigError) in config.offsetMetadataMaxBytes = try integer(key, value, 0...Int32.max) },
        "group.min.session.timeout.ms": { config, key, value throws(BrokerConfigError) in config.groupMinSessionTimeoutMs = try integer(key, value, 0...Int32.max) },
        "group.max.session.timeout.ms": { config, key, value throws(BrokerConfigError) in config.groupMaxSessionTimeoutMs = try integer(key, value, 0...Int32.max) },
        "group.max.size": { config, key, value throws(BrokerConfigError) in config.groupMaxSize = try integer(key, value, 1...Int32.max) },
        "compression.type": { config, key, value throws(BrokerConfigError) in
            let allowed = ["producer", "uncompressed", "none", "gzip", "snappy", "lz4", "zstd"]
            guard allowed.contains(value) else { throw BrokerConfigError(key: key, value: value, allowed: "one of \(allowed.joined(separator: ", "))") }
            config.compressionType = value
        },
    ]

    /// Keys of stock Kafka files that are accepted quietly: handled above in combination (ports, retention,
    /// roll), or tuning that Ferry's design makes moot (threads, socket buffers, internal topics).
    private static let acceptedWithoutEffect: Set<String> = [
        "port", "host.name", "advertised.host.name", "advertised.port", "log.retention.ms", "log.retention.minutes",
        "log.retention.hours", "log.roll.ms", "log.roll.hours", "listener.security.protocol.map", "num.network.threads",
        "num.io.threads", "socket.send.buffer.bytes", "socket.receive.buffer.bytes", "num.recovery.threads.per.data.dir",
        "num.replica.fetchers", "log.cleaner.threads", "log.cleaner.io.max.bytes.per.second", "log.cleaner.io.buffer.size",
        "log.cleaner.io.buffer.load.factor", "producer.id.expiration.check.interval.ms",
        "transaction.state.log.replication.factor", "transaction.state.log.min.isr",
        "zookeeper.sync.time.ms", "inter.broker.listener.name", "security.inter.broker.protocol",
        "inter.broker.protocol.version", "log.message.format.version",
"zookeeper.set.acl",
        "queued.max.requests", "replica.fetch.max.bytes", "replica.socket.timeout.ms", "broker.id.generation.enable",
        "reserved.broker.max.id", "confluent.support.metrics.enable", "log.flush.scheduler.interval.ms",
    ]

    static func integer<T: FixedWidthInteger>(_ key: String, _ value: String, _ range: ClosedRange<T>) throws(BrokerConfigError) -> T {
        guard let number = T(value), range.contains(number) else {
            throw BrokerConfigError(key: key, value: value, allowed: "an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    static func boolean(_ key: String, _ value: String) throws(BrokerConfigError) -> Bool {
        switch value.lowercased() {
        case "true": return true
        case "false": return false
        default: throw BrokerConfigError(key: key, value: value, allowed: "true or false")
        }
    }

    static func list(_ key: String, _ value: String) throws(BrokerConfigError) -> [String] {
        let items = value.split(separator: ",").map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }
        guard !items.isEmpty else { throw BrokerConfigError(key: key, value: value, allowed: "a comma-separated list of at least one directory") }
        return items
    }

    static func listeners(_ key: String, _ value: String) throws(BrokerConfigError) -> [Listener] {
        var result: [Listener] = []
        for item in try self.list(key, value) {
            guard let scheme = item.range(of: "://") else {
                throw BrokerConfigError(key: key, value: value, allowed: "listeners as NAME://host:port, e.g. PLAINTEXT://192.168.10.114:9092")
            }
            let name = String(item[..<scheme.lowerBound]).uppercased()
            var address = Substring(item[scheme.upperBound...])
            var host = ""
            if address.hasPrefix("["), let close = address.firstIndex(of: "]") {
                host = String(address[address.index(after: address.startIndex)..<close])
                address = address[address.index(after: close)...]
            } else if let colon = address.lastIndex(of: ":") {
                host = String(address[..<colon])
                address = address[colon...]
            }
            guard address.hasPrefix(":"), let port = Int(address.dropFirst()), (0...65535).contains(port), !name.isEmpty else {
                throw BrokerConfigError(key: key, value: value, allowed: "listeners as NAME://host:port with a port from 0 to 65535")
            }
            guard name == "PLAINTEXT" else {
                throw BrokerConfigError(key: key, value: value, allowed: "PLAINTEXT listeners (Ferry has no SSL or SASL listeners yet)")
            }
            result.append(Listener(name: name, host: host, port: port))
        }
        return result
    }
}

extension Int64 {
    fileprivate func withMultiplier(_ factor: Int64) -> Int64 { self < 0 ? -1 : self * factor }
}

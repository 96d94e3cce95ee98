import Coordination
import KafkaModel
import LogStorage

/// Kafka's topic-level configs as a broker applies them (the names, types and validation are Coordination's
/// `TopicConfigRules`): overrides live in `/config/topics/<t>`; everything a topic does not override comes from
/// `server.properties`. DescribeConfigs lists them all; AlterConfigs validates against them; the storage applies
/// the ones that shape a log (`logConfig`), the produce path reads `max.message.bytes` and `min.insync.replicas`.
enum TopicConfigs {
    typealias ValueType = TopicConfigRules.ValueType
    typealias Invalid = TopicConfigRules.Invalid

    /// A topic config with the value a topic gets from the broker when it does not override it.
    struct Definition: Sendable {
        var rule: TopicConfigRules.Definition
        /// The value when the topic does not override it, from the broker's configuration.
        var brokerValue: @Sendable (BrokerConfig) -> String

        var name: String { self.rule.name }
        var type: ValueType { self.rule.type }
        var brokerKey: String? { self.rule.brokerKey }
    }

    private static func constant(_ value: String) -> @Sendable (BrokerConfig) -> String { { _ in value } }

    /// Each config's fallback: the broker setting as configured, or Kafka's default where Ferry has no such setting.
    private static let brokerValues: [String: @Sendable (BrokerConfig) -> String] = [
        "segment.bytes": { String($0.log.segmentBytes) },
        "segment.ms": { String($0.log.segmentMs) },
        "segment.jitter.ms": constant("0"),
        "segment.index.bytes": { String($0.log.maxIndexBytes) },
        "flush.messages": { String($0.log.flushMessages) },
        "flush.ms": { String($0.log.flushMs) },
        "retention.bytes": { String($0.log.retentionBytes) },
        "retention.ms": { String($0.log.retentionMs) },
        "max.message.bytes": { String($0.messageMaxBytes) },
        "index.interval.bytes": { String($0.log.indexIntervalBytes) },
        "delete.retention.ms": { String($0.log.deleteRetentionMs) },
        "min.compaction.lag.ms": { String($0.log.minCompactionLagMs) },
        "max.compaction.lag.ms": { String($0.log.maxCompactionLagMs) },
        "file.delete.delay.ms": constant("60000"),
        "min.cleanable.dirty.ratio": { String($0.log.minCleanableDirtyRatio) },
        "cleanup.policy": { cleanupPolicy($0.log) },
        "unclean.leader.election.enable": { String($0.uncleanLeaderElectionEnable) },
        "min.insync.replicas": { String($0.minInsyncReplicas) },
        "compression.type": { $0.compressionType },
        "preallocate": constant("false"),
        "message.format.version": constant("3.0-IV1"),
        "message.timestamp.type": { $0.log.useLogAppendTime ? "LogAppendTime" : "CreateTime" },
        "message.timestamp.difference.max.ms": constant(String(Int64.max)),
        "message.timestamp.before.max.ms": constant(String(Int64.max)),
        "message.timestamp.after.max.ms": constant(String(Int64.max)),
        "message.downconversion.enable": constant("true"),
        "local.retention.ms": constant("-2"),
        "local.retention.bytes": constant("-2"),
        "remote.storage.enable": constant("false"),
        "leader.replication.throttled.replicas": constant(""),
        "follower.replication.throttled.replicas": constant(""),
    ]

    static let all: [Definition] = TopicConfigRules.all.map { rule in
        guard let brokerValue = brokerValues[rule.name] else { fatalError("no broker fallback for topic config \(rule.name)") }
        return Definition(rule: rule, brokerValue: brokerValue)
    }

    static let byName: [String: Definition] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    /// Checks a topic's complete override set, as Kafka's `LogConfig.validate`.
    static func validate(_ overrides: [String: String], topic: String) throws(Invalid) {
        try TopicConfigRules.validate(overrides, topic: topic)
    }

    /// The log settings of a topic: the broker's, with the topic's (valid) overrides applied.
    static func logConfig(_ overrides: [String: String], broker: LogConfig) -> LogConfig {
        var config = broker
        func long(_ name: String) -> Int64? { overrides[name].flatMap { Int64($0.trimmingWhitespace()) } }
        if let value = long("segment.bytes") { config.segmentBytes = Int(value) }
        if let value = long("segment.ms") { config.segmentMs = value }
        if let value = long("segment.index.bytes") { config.maxIndexBytes = Int(value) }
        if let value = long("index.interval.bytes") { config.indexIntervalBytes = Int(value) }
        if let value = long("retention.ms") { config.retentionMs = value }
        if let value = long("retention.bytes") { config.retentionBytes = value }
        if let value = long("flush.messages") { config.flushMessages = value }
        if let value = long("flush.ms") { config.flushMs = value }
        if let value = overrides["cleanup.policy"] {
            config.deletesByRetention = cleanupPolicy(value, includes: "delete")
            config.compacts = cleanupPolicy(value, includes: "compact")
        }
        if let value = long("delete.retention.ms") { config.deleteRetentionMs = value }
        if let value = long("min.compaction.lag.ms") { config.minCompactionLagMs = value }
        if let value = long("max.compaction.lag.ms") { config.maxCompactionLagMs = value }
        if let value = overrides["min.cleanable.dirty.ratio"].flatMap({ Double($0.trimmingWhitespace()) }) { config.minCleanableDirtyRatio = value }
        if let value = overrides["message.timestamp.type"] { config.useLogAppendTime = value.trimmingWhitespace() == "LogAppendTime" }
        return config
    }

    /// A log's `cleanup.policy` as Kafka lists it.
    static func cleanupPolicy(_ config: LogConfig) -> String {
        [config.compacts ? "compact" : nil, config.deletesByRetention ? "delete" : nil].compactMap { $0 }.joined(separator: ",")
    }

    /// Whether a `cleanup.policy` list (`compact`, `delete`, or both) names `policy`.
    static func cleanupPolicy(_ value: String, includes policy: String) -> Bool {
        value.split(separator: ",").contains { String($0).trimmingWhitespace() == policy }
    }
}

import KafkaModel
import LogStorage

/// Kafka's topic-level configs (`LogConfig`, 3.7): their names, types, validation, and the broker setting each
/// falls back to. Overrides live in `/config/topics/<t>`; everything a topic does not override comes from
/// `server.properties`. DescribeConfigs lists them all; AlterConfigs validates against them; the storage applies
/// the ones that shape a log (`logConfig`), the produce path reads `max.message.bytes` and `min.insync.replicas`.
enum TopicConfigs {
    /// `config_type` of DescribeConfigs v3+.
    enum ValueType: Int8 {
        case boolean = 1, string = 2, int = 3, long = 5, double = 6, list = 7
    }

    struct Definition: Sendable {
        var name: String
        var type: ValueType
        /// The broker key it falls back to (Kafka's primary synonym), if any.
        var brokerKey: String?
        /// The value when the topic does not override it, from the broker's configuration.
        var brokerValue: @Sendable (BrokerConfig) -> String
        /// Allowed values: a range for numbers, a set for strings and lists.
        var allowed: Allowed = .any

        enum Allowed: Sendable {
            case any
            case atLeast(Int64)
            case unitInterval
            case oneOf([String])
        }
    }

    private static func constant(_ value: String) -> @Sendable (BrokerConfig) -> String { { _ in value } }

    static let all: [Definition] = [
        Definition(name: "segment.bytes", type: .int, brokerKey: "log.segment.bytes", brokerValue: { String($0.log.segmentBytes) }, allowed: .atLeast(14)),
        Definition(name: "segment.ms", type: .long, brokerKey: "log.roll.ms", brokerValue: { String($0.log.segmentMs) }, allowed: .atLeast(1)),
        Definition(name: "segment.jitter.ms", type: .long, brokerKey: "log.roll.jitter.ms", brokerValue: constant("0"), allowed: .atLeast(0)),
        Definition(name: "segment.index.bytes", type: .int, brokerKey: "log.index.size.max.bytes", brokerValue: { String($0.log.maxIndexBytes) }, allowed: .atLeast(4)),
        Definition(name: "flush.messages", type: .long, brokerKey: "log.flush.interval.messages", brokerValue: { String($0.log.flushMessages) }, allowed: .atLeast(1)),
        Definition(name: "flush.ms", type: .long, brokerKey: "log.flush.interval.ms", brokerValue: { String($0.log.flushMs) }, allowed: .atLeast(0)),
        Definition(name: "retention.bytes", type: .long, brokerKey: "log.retention.bytes", brokerValue: { String($0.log.retentionBytes) }),
        Definition(name: "retention.ms", type: .long, brokerKey: "log.retention.ms", brokerValue: { String($0.log.retentionMs) }, allowed: .atLeast(-1)),
        Definition(name: "max.message.bytes", type: .int, brokerKey: "message.max.bytes", brokerValue: { String($0.messageMaxBytes) }, allowed: .atLeast(0)),
        Definition(name: "index.interval.bytes", type: .int, brokerKey: "log.index.interval.bytes", brokerValue: { String($0.log.indexIntervalBytes) }, allowed: .atLeast(0)),
        Definition(name: "delete.retention.ms", type: .long, brokerKey: "log.cleaner.delete.retention.ms", brokerValue: constant("86400000"), allowed: .atLeast(0)),
        Definition(name: "min.compaction.lag.ms", type: .long, brokerKey: "log.cleaner.min.compaction.lag.ms", brokerValue: constant("0"), allowed: .atLeast(0)),
        Definition(name: "max.compaction.lag.ms", type: .long, brokerKey: "log.cleaner.max.compaction.lag.ms", brokerValue: constant(String(Int64.max)), allowed: .atLeast(1)),
        Definition(name: "file.delete.delay.ms", type: .long, brokerKey: "log.segment.delete.delay.ms", brokerValue: constant("60000"), allowed: .atLeast(0)),
        Definition(name: "min.cleanable.dirty.ratio", type: .double, brokerKey: "log.cleaner.min.cleanable.ratio", brokerValue: constant("0.5"), allowed: .unitInterval),
        Definition(name: "cleanup.policy", type: .list, brokerKey: "log.cleanup.policy", brokerValue: { $0.given["log.cleanup.policy"] ?? "delete" }, allowed: .oneOf(["compact", "delete"])),
        Definition(name: "unclean.leader.election.enable", type: .boolean, brokerKey: "unclean.leader.election.enable", brokerValue: { String($0.uncleanLeaderElectionEnable) }),
        Definition(name: "min.insync.replicas", type: .int, brokerKey: "min.insync.replicas", brokerValue: { String($0.minInsyncReplicas) }, allowed: .atLeast(1)),
        Definition(name: "compression.type", type: .string, brokerKey: "compression.type", brokerValue: { $0.compressionType },
                   allowed: .oneOf(["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"])),
        Definition(name: "preallocate", type: .boolean, brokerKey: "log.preallocate", brokerValue: constant("false")),
        Definition(name: "message.format.version", type: .string, brokerKey: "log.message.format.version", brokerValue: constant("3.0-IV1")),
        Definition(name: "message.timestamp.type", type: .string, brokerKey: "log.message.timestamp.type",
                   brokerValue: { $0.log.useLogAppendTime ? "LogAppendTime" : "CreateTime" }, allowed: .oneOf(["CreateTime", "LogAppendTime"])),
        Definition(name: "message.timestamp.difference.max.ms", type: .long, brokerKey: "log.message.timestamp.difference.max.ms", brokerValue: constant(String(Int64.max)), allowed: .atLeast(0)),
        Definition(name: "message.timestamp.before.max.ms", type: .long, brokerKey: "log.message.timestamp.before.max.ms", brokerValue: constant(String(Int64.max)), allowed: .atLeast(0)),
        Definition(name: "message.timestamp.after.max.ms", type: .long, brokerKey: "log.message.timestamp.after.max.ms", brokerValue: constant(String(Int64.max)), allowed: .atLeast(0)),
        Definition(name: "message.downconversion.enable", type: .boolean, brokerKey: "log.message.downconversion.enable", brokerValue: constant("true")),
        Definition(name: "local.retention.ms", type: .long, brokerKey: "log.local.retention.ms", brokerValue: constant("-2"), allowed: .atLeast(-2)),
        Definition(name: "local.retention.bytes", type: .long, brokerKey: "log.local.retention.bytes", brokerValue: constant("-2"), allowed: .atLeast(-2)),
        Definition(name: "remote.storage.enable", type: .boolean, brokerKey: nil, brokerValue: constant("false")),
        Definition(name: "leader.replication.throttled.replicas", type: .list, brokerKey: nil, brokerValue: constant("")),
        Definition(name: "follower.replication.throttled.replicas", type: .list, brokerKey: nil, brokerValue: constant("")),
    ]

    static let byName: [String: Definition] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    /// Why a set of overrides is refused: INVALID_CONFIG with Kafka's message.
    struct Invalid: Error, Sendable {
        var message: String
    }

    /// Checks a topic's complete override set, as Kafka's `LogConfig.validate`.
    static func validate(_ overrides: [String: String], topic: String) throws(Invalid) {
        for (name, value) in overrides.sorted(by: { $0.key < $1.key }) {
            guard let definition = self.byName[name] else { throw Invalid(message: "Unknown topic config name: \(name)") }
            if let problem = self.problem(with: value, for: definition) {
                throw Invalid(
                    message: "Invalid config value for resource ConfigResource(type=TOPIC, name='\(topic)'): Invalid value \(value) for configuration \(name): \(problem)")
            }
        }
        if let min = overrides["min.compaction.lag.ms"].flatMap(Int64.init), let max = overrides["max.compaction.lag.ms"].flatMap(Int64.init), min > max {
            throw Invalid(message: "conflict topic config setting min.compaction.lag.ms (\(min)) > max.compaction.lag.ms (\(max))")
        }
    }

    /// What is wrong with `value` for `definition`, in Kafka's `ConfigDef` words, or nil.
    private static func problem(with value: String, for definition: Definition) -> String? {
        let trimmed = value.trimmingWhitespace()
        switch definition.type {
        case .boolean:
            guard ["true", "false"].contains(trimmed.lowercased()) else { return "Expected value to be either true or false" }
        case .int, .long:
            let number = definition.type == .int ? Int32(trimmed).map(Int64.init) : Int64(trimmed)
            guard let number else { return "Not a number of type \(definition.type == .int ? "INT" : "LONG")" }
            if case .atLeast(let minimum) = definition.allowed, number < minimum { return "Value must be at least \(minimum)" }
        case .double:
            guard let number = Double(trimmed) else { return "Not a number of type DOUBLE" }
            if case .unitInterval = definition.allowed, !(0...1).contains(number) { return "Value must be no more than 1" }
        case .string:
            if case .oneOf(let options) = definition.allowed, !options.contains(trimmed) {
                return "String must be one of: \(options.joined(separator: ", "))"
            }
        case .list:
            if case .oneOf(let options) = definition.allowed {
                for item in trimmed.split(separator: ",").map({ String($0).trimmingWhitespace() }) where !options.contains(item) {
                    return "Invalid value \(item) for configuration \(definition.name): String must be one of: \(options.joined(separator: ", "))"
                }
            }
        }
        return nil
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
        if let value = overrides["message.timestamp.type"] { config.useLogAppendTime = value.trimmingWhitespace() == "LogAppendTime" }
        return config
    }
}

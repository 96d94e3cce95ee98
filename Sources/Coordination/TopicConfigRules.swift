/// Kafka's topic-level configs (`LogConfig`, 3.7): their names, types, allowed values and the broker setting each
/// falls back to, and Kafka's validation of an override set. Whoever writes `/config/topics/<t>` checks against
/// these first: the brokers (CreateTopics, AlterConfigs) and the `--zookeeper` tools, which write ZooKeeper
/// themselves as Kafka's AdminZkClient does. What a topic gets when it does not override a config is the broker's
/// business (BrokerServer's `TopicConfigs`).
public enum TopicConfigRules {
    /// `config_type` of DescribeConfigs v3+.
    public enum ValueType: Int8, Sendable {
        case boolean = 1, string = 2, int = 3, long = 5, double = 6, list = 7
    }

    /// Allowed values: a range for numbers, a set for strings and lists.
    public enum Allowed: Sendable {
        case any
        case atLeast(Int64)
        case unitInterval
        case oneOf([String])
    }

    public struct Definition: Sendable {
        public var name: String
        public var type: ValueType
        /// The broker key it falls back to (Kafka's primary synonym), if any.
        public var brokerKey: String?
        public var allowed: Allowed = .any
    }

    public static let all: [Definition] = [
        Definition(name: "segment.bytes", type: .int, brokerKey: "log.segment.bytes", allowed: .atLeast(14)),
        Definition(name: "segment.ms", type: .long, brokerKey: "log.roll.ms", allowed: .atLeast(1)),
        Definition(name: "segment.jitter.ms", type: .long, brokerKey: "log.roll.jitter.ms", allowed: .atLeast(0)),
        Definition(name: "segment.index.bytes", type: .int, brokerKey: "log.index.size.max.bytes", allowed: .atLeast(4)),
        Definition(name: "flush.messages", type: .long, brokerKey: "log.flush.interval.messages", allowed: .atLeast(1)),
        Definition(name: "flush.ms", type: .long, brokerKey: "log.flush.interval.ms", allowed: .atLeast(0)),
        Definition(name: "retention.bytes", type: .long, brokerKey: "log.retention.bytes"),
        Definition(name: "retention.ms", type: .long, brokerKey: "log.retention.ms", allowed: .atLeast(-1)),
        Definition(name: "max.message.bytes", type: .int, brokerKey: "message.max.bytes", allowed: .atLeast(0)),
        Definition(name: "index.interval.bytes", type: .int, brokerKey: "log.index.interval.bytes", allowed: .atLeast(0)),
        Definition(name: "delete.retention.ms", type: .long, brokerKey: "log.cleaner.delete.retention.ms", allowed: .atLeast(0)),
        Definition(name: "min.compaction.lag.ms", type: .long, brokerKey: "log.cleaner.min.compaction.lag.ms", allowed: .atLeast(0)),
        Definition(name: "max.compaction.lag.ms", type: .long, brokerKey: "log.cleaner.max.compaction.lag.ms", allowed: .atLeast(1)),
        Definition(name: "file.delete.delay.ms", type: .long, brokerKey: "log.segment.delete.delay.ms", allowed: .atLeast(0)),
        Definition(name: "min.cleanable.dirty.ratio", type: .double, brokerKey: "log.cleaner.min.cleanable.ratio", allowed: .unitInterval),
        Definition(name: "cleanup.policy", type: .list, brokerKey: "log.cleanup.policy", allowed: .oneOf(["compact", "delete"])),
        Definition(name: "unclean.leader.election.enable", type: .boolean, brokerKey: "unclean.leader.election.enable"),
        Definition(name: "min.insync.replicas", type: .int, brokerKey: "min.insync.replicas", allowed: .atLeast(1)),
        Definition(name: "compression.type", type: .string, brokerKey: "compression.type",
                   allowed: .oneOf(["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"])),
        Definition(name: "preallocate", type: .boolean, brokerKey: "log.preallocate"),
        Definition(name: "message.format.version", type: .string, brokerKey: "log.message.format.version"),
        Definition(name: "message.timestamp.type", type: .string, brokerKey: "log.message.timestamp.type", allowed: .oneOf(["CreateTime", "LogAppendTime"])),
        Definition(name: "message.timestamp.difference.max.ms", type: .long, brokerKey: "log.message.timestamp.difference.max.ms", allowed: .atLeast(0)),
        Definition(name: "message.timestamp.before.max.ms", type: .long, brokerKey: "log.message.timestamp.before.max.ms", allowed: .atLeast(0)),
        Definition(name: "message.timestamp.after.max.ms", type: .long, brokerKey: "log.message.timestamp.after.max.ms", allowed: .atLeast(0)),
        Definition(name: "message.downconversion.enable", type: .boolean, brokerKey: "log.message.downconversion.enable"),
        Definition(name: "local.retention.ms", type: .long, brokerKey: "log.local.retention.ms", allowed: .atLeast(-2)),
        Definition(name: "local.retention.bytes", type: .long, brokerKey: "log.local.retention.bytes", allowed: .atLeast(-2)),
        Definition(name: "remote.storage.enable", type: .boolean, brokerKey: nil),
        Definition(name: "leader.replication.throttled.replicas", type: .list, brokerKey: nil),
        Definition(name: "follower.replication.throttled.replicas", type: .list, brokerKey: nil),
    ]

    public static let byName: [String: Definition] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    /// Why a set of overrides is refused: INVALID_CONFIG with Kafka's message.
    public struct Invalid: Error, Sendable {
        public var message: String
    }

    /// Checks a topic's complete override set, as Kafka's `LogConfig.validate`.
    public static func validate(_ overrides: [String: String], topic: String) throws(Invalid) {
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

    /// The broker settings Ferry's brokers apply at run time (dynamic broker configs, in `/config/brokers/<id>` or
    /// `<default>`): the defaults of the topic configs Ferry honours. Kafka allows more (thread pools, listeners,
    /// quotas); those are refused rather than stored and not applied.
    public static let dynamicBrokerKeys: Set<String> = [
        "log.segment.bytes", "log.roll.ms", "log.index.size.max.bytes", "log.index.interval.bytes", "log.flush.interval.messages",
        "log.flush.interval.ms", "log.retention.bytes", "log.retention.ms", "log.message.timestamp.type", "message.max.bytes",
        "min.insync.replicas", "unclean.leader.election.enable", "compression.type", "log.cleanup.policy",
        "log.cleaner.delete.retention.ms", "log.cleaner.min.cleanable.ratio", "log.cleaner.min.compaction.lag.ms",
        "log.cleaner.max.compaction.lag.ms",
    ]

    /// Checks dynamic broker configs (`entity`: a broker id, or empty for the cluster default): only
    /// `dynamicBrokerKeys`, each value valid for the topic config it is the default of.
    public static func validateDynamicBrokerConfigs(_ values: [String: String], entity: String) throws(Invalid) {
        let fixed = values.keys.filter { !self.dynamicBrokerKeys.contains($0) }.sorted()
        guard fixed.isEmpty else { throw Invalid(message: "Cannot update these configs dynamically: Set(\(fixed.joined(separator: ", ")))") }
        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
            let definition = self.all.first { $0.brokerKey == key }!
            if let problem = self.problem(with: value, for: definition) {
                throw Invalid(
                    message: "Invalid config value for resource ConfigResource(type=BROKER, name='\(entity)'): Invalid value \(value) for configuration \(key): \(problem)")
            }
        }
    }

    /// What is wrong with `value` for `definition`, in Kafka's `ConfigDef` words, or nil.
    private static func problem(with value: String, for definition: Definition) -> String? {
        let trimmed = value.trimmedOfWhitespace
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
                for item in trimmed.split(separator: ",").map({ String($0).trimmedOfWhitespace }) where !options.contains(item) {
                    return "Invalid value \(item) for configuration \(definition.name): String must be one of: \(options.joined(separator: ", "))"
                }
            }
        }
        return nil
    }
}

extension String {
    fileprivate var trimmedOfWhitespace: String {
        String(self.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}

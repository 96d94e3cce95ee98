import Coordination
import KafkaModel

/// Describes and changes configs for DescribeConfigs, AlterConfigs and IncrementalAlterConfigs, as a Kafka broker
/// in ZooKeeper mode does (any broker serves them, reading and writing ZooKeeper itself):
/// - TOPIC resources: every topic-level config, with the topic's override or else the broker's value; changes
///   are validated (INVALID_CONFIG) and written to `/config/topics/<t>` with a `/config/changes` notification;
/// - BROKER resources: this broker's settings, from `server.properties` or dynamic. The keys in
///   `BrokerConfig.dynamicKeys` can be altered, for this broker (`/config/brokers/<id>`, sent to the broker itself)
///   or every broker (an empty name: `/config/brokers/<default>`); the rest are read only.
struct ConfigManager: Sendable {
    enum ResourceType: Int8 {
        case topic = 2
        case broker = 4
    }

    /// A config as DescribeConfigs reports it.
    struct Entry: Sendable {
        var name: String
        var value: String?
        var readOnly: Bool
        /// DescribeConfigs' config_source: 1 topic, 4 static broker, 5 default.
        var source: Int8
        var isSensitive: Bool
        var synonyms: [(name: String, value: String?, source: Int8)]
        var type: Int8
    }

    /// A resource's failure, with the Kafka error a client should see.
    struct Failure: Error, Sendable {
        var code: ErrorCode
        var message: String?
    }

    let brokerId: Int32
    let config: DynamicBrokerConfig
    let cache: MetadataCache
    let admin: TopicAdmin

    static let topicConfigSource: Int8 = 1
    static let dynamicBrokerConfigSource: Int8 = DynamicBrokerConfig.Level.broker.rawValue
    static let dynamicDefaultBrokerConfigSource: Int8 = DynamicBrokerConfig.Level.clusterDefault.rawValue
    static let staticBrokerConfigSource: Int8 = 4
    static let defaultConfigSource: Int8 = 5

    // MARK: Describe

    func describe(type: Int8, name: String, keys: [String]?) async throws(Failure) -> [Entry] {
        let wanted = keys.flatMap { $0.isEmpty ? nil : Set($0) }
        switch ResourceType(rawValue: type) {
        case .topic:
            return try await self.describeTopic(name).filter { wanted?.contains($0.name) ?? true }
        case .broker:
            return try self.describeBroker(name).filter { wanted?.contains($0.name) ?? true }
        case nil:
            throw Failure(code: .invalidRequest, message: "Unsupported resource type \(type)")
        }
    }

    private func describeTopic(_ name: String) async throws(Failure) -> [Entry] {
        do { try TopicAdmin.validate(name: name) } catch { throw Failure(code: error.code, message: error.message) }
        guard await self.cache.topics[name] != nil else { throw Failure(code: .unknownTopicOrPartition, message: "") }
        let overrides = try await self.overrides(of: name)
        let current = self.config.current
        var entries = TopicConfigs.all.map { definition in
            var synonyms: [(name: String, value: String?, source: Int8)] = []
            if let value = overrides[definition.name] { synonyms.append((definition.name, value, Self.topicConfigSource)) }
            if let key = definition.brokerKey { synonyms += self.brokerSynonyms(key, builtIn: definition.brokerValue(BrokerConfig())) }
            return Entry(
                name: definition.name, value: overrides[definition.name] ?? definition.brokerValue(current), readOnly: false,
                source: synonyms.first?.source ?? Self.defaultConfigSource, isSensitive: false, synonyms: synonyms,
                type: definition.type.rawValue)
        }
        // Keys Kafka does not know (written by other tools) are listed as Kafka lists them: sensitive, no value.
        for (key, _) in overrides.sorted(by: { $0.key < $1.key }) where TopicConfigs.byName[key] == nil {
            entries.append(Entry(name: key, value: nil, readOnly: false, source: Self.topicConfigSource, isSensitive: true, synonyms: [], type: 0))
        }
        return entries
    }

    private func describeBroker(_ name: String) throws(Failure) -> [Entry] {
        if name.isEmpty {
            // The cluster-wide default resource lists only its dynamic values, as Kafka does.
            return self.config.values(.clusterDefault).sorted { $0.key < $1.key }.map { key, value in
                Entry(
                    name: key, value: value, readOnly: false, source: Self.dynamicDefaultBrokerConfigSource, isSensitive: false,
                    synonyms: [(key, value, Self.dynamicDefaultBrokerConfigSource)], type: 2)
            }
        }
        guard let id = Int32(name) else { throw Failure(code: .invalidRequest, message: "Broker id must be an integer, but it is: \(name)") }
        guard id == self.brokerId else {
            throw Failure(code: .invalidRequest, message: "Unexpected broker id, expected \(self.brokerId) or empty string, but received \(name)")
        }
        let builtIn = Dictionary(BrokerConfig().describedValues().map { ($0.key, $0.value) }) { first, _ in first }
        return self.config.current.describedValues().map { key, value in
            let synonyms = self.brokerSynonyms(key, builtIn: builtIn[key] ?? nil)
            // A dynamic log.retention.ms or log.roll.ms is the value in effect, though the static file may give hours.
            let effective = synonyms.first.map { $0.source <= Self.dynamicDefaultBrokerConfigSource } == true ? synonyms[0].value : value
            return Entry(
                name: key, value: effective, readOnly: !BrokerConfig.dynamicKeys.contains(key),
                source: synonyms.first?.source ?? Self.defaultConfigSource, isSensitive: false, synonyms: synonyms, type: 2)
        }
    }

    /// A broker key's values from the most to the least specific: this broker's dynamic value, the cluster-wide
    /// dynamic default, `server.properties`, then Kafka's built-in default (`builtIn`, if it has one).
    private func brokerSynonyms(_ key: String, builtIn: String?) -> [(name: String, value: String?, source: Int8)] {
        var synonyms: [(name: String, value: String?, source: Int8)] = []
        if let value = self.config.value(of: key, at: .broker) { synonyms.append((key, value, Self.dynamicBrokerConfigSource)) }
        if let value = self.config.value(of: key, at: .clusterDefault) { synonyms.append((key, value, Self.dynamicDefaultBrokerConfigSource)) }
        if let value = self.config.staticConfig.given[key] { synonyms.append((key, value, Self.staticBrokerConfigSource)) }
        if let builtIn { synonyms.append((key, builtIn, Self.defaultConfigSource)) }
        return synonyms
    }

    private func overrides(of topic: String) async throws(Failure) -> [String: String] {
        do {
            return try await self.admin.topicConfig(topic)
        } catch {
            throw Failure(code: .unknownServerError, message: "cannot read the config of topic \(topic): \(error)")
        }
    }

    // MARK: Alter

    /// A change to one config of a resource (legacy AlterConfigs sends only sets, replacing the whole set).
    enum Operation: Sendable {
        case set(String, String)
        case delete(String)
        case append(String, String)
        case subtract(String, String)

        var name: String {
            switch self {
            case .set(let name, _), .delete(let name), .append(let name, _), .subtract(let name, _): name
            }
        }
    }

    /// Applies `operations` to a resource's config: on the current overrides (`incremental`), or replacing them.
    func alter(type: Int8, name: String, operations: [Operation], incremental: Bool, validateOnly: Bool) async throws(Failure) {
        let names = operations.map(\.name)
        guard Set(names).count == names.count else { throw Failure(code: .invalidRequest, message: "Error due to duplicate config keys") }
        switch ResourceType(rawValue: type) {
        case .topic:
            guard !name.isEmpty else { throw Failure(code: .invalidRequest, message: "Default topic resources are not allowed.") }
            guard await self.cache.topics[name] != nil else {
                throw Failure(code: .unknownTopicOrPartition, message: "The topic '\(name)' does not exist.")
            }
            var overrides = incremental ? try await self.overrides(of: name) : [:]
            for operation in operations { try Self.apply(operation, to: &overrides) }
            do {
                try TopicConfigs.validate(overrides, topic: name)
            } catch {
                throw Failure(code: .invalidConfig, message: error.message)
            }
            guard !validateOnly else { return }
            do {
                try await self.admin.changeTopicConfig(name, to: overrides)
            } catch {
                throw Failure(code: .unknownServerError, message: "cannot write the config of topic \(name): \(error)")
            }
        case .broker:
            if !name.isEmpty && name != String(self.brokerId) {
                throw Failure(code: .invalidRequest, message: "Unexpected broker id, expected \(self.brokerId), but received \(name)")
            }
            let entity = name.isEmpty ? "<default>" : name
            var values: [String: String] = [:]
            if incremental {
                do {
                    values = try await self.admin.brokerConfig(entity)
                } catch {
                    throw Failure(code: .unknownServerError, message: "cannot read the dynamic configs of broker \(entity): \(error)")
                }
            }
            for operation in operations {
                switch operation {
                case .set(let key, let value): values[key] = value
                case .delete(let key): values.removeValue(forKey: key)
                case .append(let key, _), .subtract(let key, _):
                    throw Failure(code: .invalidConfig, message: "Config value append is not allowed for config key: \(key)")
                }
            }
            // Kafka answers a value its ConfigDef refuses with INVALID_REQUEST (a ConfigException) for brokers.
            do {
                try TopicConfigRules.validateDynamicBrokerConfigs(values, entity: name)
                _ = try self.config.staticConfig.applyingDynamic(values)
            } catch let error as TopicConfigRules.Invalid {
                throw Failure(code: .invalidRequest, message: error.message)
            } catch {
                throw Failure(code: .invalidRequest, message: "Invalid config value for resource ConfigResource(type=BROKER, name='\(name)'): \(error)")
            }
            guard !validateOnly else { return }
            do {
                try await self.admin.changeBrokerConfig(entity, to: values)
            } catch {
                throw Failure(code: .unknownServerError, message: "cannot write the dynamic configs of broker \(entity): \(error)")
            }
        case nil:
            throw Failure(code: .invalidRequest, message: "Unknown resource type \(type)")
        }
    }

    private static func apply(_ operation: Operation, to overrides: inout [String: String]) throws(Failure) {
        switch operation {
        case .set(let name, let value): overrides[name] = value
        case .delete(let name): overrides.removeValue(forKey: name)
        case .append(let name, let value), .subtract(let name, let value):
            let isAppend = if case .append = operation { true } else { false }
            guard let definition = TopicConfigs.byName[name], definition.type == .list else {
                throw Failure(code: .invalidConfig, message: "Config value \(isAppend ? "append" : "subtract") is not allowed for config key: \(name)")
            }
            func items(_ text: String) -> [String] { text.split(separator: ",").map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty } }
            // The base is the override, else Kafka's built-in default (not the broker's value).
            var current = items(overrides[name] ?? definition.brokerValue(BrokerConfig()))
            if isAppend {
                for item in items(value) where !current.contains(item) { current.append(item) }
            } else {
                current.removeAll { items(value).contains($0) }
            }
            overrides[name] = current.joined(separator: ",")
        }
    }
}

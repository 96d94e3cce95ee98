import Coordination
import KafkaModel

/// Describes and changes configs for DescribeConfigs, AlterConfigs and IncrementalAlterConfigs, as a Kafka broker
/// in ZooKeeper mode does (any broker serves them, reading and writing ZooKeeper itself):
/// - TOPIC resources: every topic-level config, with the topic's override or else the broker's value; changes
///   are validated (INVALID_CONFIG) and written to `/config/topics/<t>` with a `/config/changes` notification;
/// - BROKER resources: this broker's `server.properties` settings, read only (no dynamic broker configs);
///   an empty name is the cluster default, which has no entries.
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
    let config: BrokerConfig
    let cache: MetadataCache
    let admin: TopicAdmin

    static let topicConfigSource: Int8 = 1
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
        var entries = TopicConfigs.all.map { definition in
            let staticValue = definition.brokerKey.flatMap { self.config.given[$0] }
            var synonyms: [(name: String, value: String?, source: Int8)] = []
            if let value = overrides[definition.name] { synonyms.append((definition.name, value, Self.topicConfigSource)) }
            if let key = definition.brokerKey {
                if let staticValue { synonyms.append((key, staticValue, Self.staticBrokerConfigSource)) }
                synonyms.append((key, definition.brokerValue(BrokerConfig()), Self.defaultConfigSource))
            }
            return Entry(
                name: definition.name, value: overrides[definition.name] ?? definition.brokerValue(self.config), readOnly: false,
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
        if name.isEmpty { return [] }  // no dynamic cluster-wide defaults
        guard let id = Int32(name) else { throw Failure(code: .invalidRequest, message: "Broker id must be an integer, but it is: \(name)") }
        guard id == self.brokerId else {
            throw Failure(code: .invalidRequest, message: "Unexpected broker id, expected \(self.brokerId) or empty string, but received \(name)")
        }
        return self.config.describedValues().map { key, value in
            let given = self.config.given[key] != nil
            return Entry(
                name: key, value: value, readOnly: true, source: given ? Self.staticBrokerConfigSource : Self.defaultConfigSource,
                isSensitive: false, synonyms: [(key, value, given ? Self.staticBrokerConfigSource : Self.defaultConfigSource)], type: 2)
        }
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
            guard names.isEmpty else {
                throw Failure(code: .invalidRequest, message: "Cannot update these configs dynamically: Set(\(names.joined(separator: ", ")))")
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

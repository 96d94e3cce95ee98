import ArgumentParser
import Coordination
import Foundation
import KafkaClient
import KafkaModel
import ZooKeeper

/// `kafka-configs.sh` for topics and brokers, with Kafka 2.8's options, output and exit codes. `--zookeeper` reads and
/// writes `/config/<type>/<name>` with a `/config/changes` notification, as Kafka's AdminZkClient does (topic
/// overrides and dynamic broker configs are validated first, as the broker would); `--bootstrap-server` goes through
/// DescribeConfigs and IncrementalAlterConfigs (a broker's own configs to that broker). Quota entities (clients,
/// users, ips) are not supported.
struct ConfigsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "configs",
        abstract: "Describe or change topic and broker configs (kafka-configs.sh).",
        discussion: "Takes Kafka's options, with one dash or two; see --help."
    )

    @Argument(parsing: .captureForPassthrough, help: "Kafka's ConfigCommand options.")
    var arguments: [String] = []

    static let specs: [KafkaOptions.Spec] = [
        .value("zookeeper", "String: urls", "DEPRECATED. The connection string for the zookeeper connection in the form host:port. Multiple URLS can be given to allow fail-over. Replaced by --bootstrap-server, REQUIRED unless --bootstrap-server is given."),
        .value("bootstrap-server", "String: server to connect to", "The Kafka server to connect to. This is required for describing and altering broker configs."),
        .value("command-config", "String: command config property file", "Property file containing configs to be passed to Admin Client. This is used only with --bootstrap-server option for describing and altering broker configs."),
        .flag("describe", "List configs for the given entity."),
        .flag("alter", "Alter the configuration for the entity."),
        .value("entity-type", "String", "Type of entity (topics/clients/users/brokers/broker-loggers/ips)"),
        .value("entity-name", "String", "Name of entity (topic name/client id/user principal name/broker id/ip)"),
        .flag("entity-default", "Default entity name for clients/users/brokers/ips (applies to corresponding entity type in command line)"),
        .value("topic", "String", "The topic's name."),
        .value("broker", "String", "The broker's ID."),
        .flag("broker-defaults", "The config defaults for all brokers."),
        .value("add-config", "String", "Key Value pairs of configs to add. Square brackets can be used to group values which contain commas: 'k1=v1,k2=[v1,v2,v2],k3=v3'."),
        .value("add-config-file", "String", "Path to a properties file with configs to add. See add-config for a list of valid configurations."),
        .value("delete-config", "String", "config keys to remove 'k1,k2'"),
        .flag("all", "List all configs for the given topic, broker, or broker-logger entity (includes static configuration when the entity type is brokers)"),
        .flag("force", "Suppress console prompts"),
    ]

    /// What the command acts on: a topic, a broker, or (name nil) the brokers' cluster-wide default.
    enum Entity {
        case topics(String?)
        case brokers(String?, isDefault: Bool)
    }

    func run() async throws {
        guard let options = try KafkaOptions.parseTool(
            self.arguments, specs: Self.specs, about: "This tool helps to manipulate and describe entity config for a topic, client, user, broker or ip",
            check: Self.check) else { return }
        let entity: Entity
        do throws(KafkaOptions.UsageError) {
            entity = try Self.entity(options)
        } catch {
            ToolOutput.error(error.message)
            throw ExitCode(1)
        }
        do {
            if let connect = options.value("zookeeper") {
                print("Warning: --zookeeper is deprecated and will be removed in a future version of Kafka.")
                print("Use --bootstrap-server instead to specify a broker to connect to.")
                let client = try await ZooKeeperClient.connect(
                    ZooKeeperClient.Configuration(connectString: ConnectString(parsing: connect), connectionTimeout: .seconds(30)))
                defer { Task { await client.close() } }
                try await ZooKeeperConfigs(client: client, options: options, entity: entity).run()
            } else {
                let cluster = try KafkaCluster(bootstrapServers: options.value("bootstrap-server")!, clientId: "adminclient-1")
                defer { Task { await cluster.close() } }
                try await AdminConfigs(admin: KafkaAdmin(cluster: cluster), options: options, entity: entity).run()
            }
        } catch let error as ConfigsFailure {
            // Kafka's InvalidConfigurationException and IllegalArgumentException: the message alone.
            ToolOutput.error(error.message)
            throw ExitCode(1)
        } catch let error as ExitCode {
            throw error
        } catch {
            ToolOutput.error("Error while executing config command with args '\(self.arguments.joined(separator: " "))'")
            ToolOutput.error("\(error)")
            throw ExitCode(1)
        }
    }

    /// Kafka's `ConfigCommandOptions.checkArgs`, in its order, for what Ferry supports.
    static func check(_ options: KafkaOptions) throws(KafkaOptions.UsageError) {
        guard ["describe", "alter"].filter(options.has).count == 1 else {
            throw KafkaOptions.UsageError(message: "Command must include exactly one action: --describe, --alter")
        }
        switch (options.has("bootstrap-server"), options.has("zookeeper")) {
        case (false, false): throw KafkaOptions.UsageError(message: "One of the required --bootstrap-server or --zookeeper arguments must be specified")
        case (true, true): throw KafkaOptions.UsageError(message: "Only one of --bootstrap-server or --zookeeper must be specified")
        default: break
        }
        if options.has("alter") && !options.has("add-config") && !options.has("add-config-file") && !options.has("delete-config") {
            throw KafkaOptions.UsageError(message: "At least one of --add-config, --add-config-file, or --delete-config must be specified with --alter")
        }
        if options.has("describe") && (options.has("add-config") || options.has("delete-config")) {
            throw KafkaOptions.UsageError(message: "Option \"[add-config]\" can't be used with option \"[describe]\"")
        }
        if options.has("all") && options.has("zookeeper") {
            throw KafkaOptions.UsageError(message: "--all is not supported with --zookeeper")
        }
    }

    /// The entity from `--entity-type/--entity-name/--entity-default` or the shortcuts (`--topic`, `--broker`,
    /// `--broker-defaults`).
    static func entity(_ options: KafkaOptions) throws(KafkaOptions.UsageError) -> Entity {
        var types = options.all("entity-type")
        if options.has("topic") { types.append("topics") }
        if options.has("broker") || options.has("broker-defaults") { types.append("brokers") }
        guard let type = types.first else { throw KafkaOptions.UsageError(message: "At least one entity type must be specified") }
        guard Set(types).count == 1 else {
            throw KafkaOptions.UsageError(message: "Only one entity type may be specified; Ferry has no quota entities to combine with (\(types.joined(separator: ",")))")
        }
        let zookeeper = options.has("zookeeper")
        let known = zookeeper ? ["topics", "clients", "users", "brokers", "ips"] : ["topics", "clients", "users", "brokers", "broker-loggers", "ips"]
        guard known.contains(type) else {
            throw KafkaOptions.UsageError(
                message: "Invalid entity type \(type), the entity type must be one of \(known.joined(separator: ",")) with the \(zookeeper ? "--zookeeper" : "--bootstrap-server") argument")
        }
        let name = options.value("entity-name") ?? options.value("topic") ?? options.value("broker")
        let isDefault = options.has("entity-default") || options.has("broker-defaults")
        switch type {
        case "topics":
            if isDefault { throw KafkaOptions.UsageError(message: "--entity-default is not supported for topics") }
            if options.has("alter") && name == nil { throw KafkaOptions.UsageError(message: "an entity name must be specified with --alter of topics") }
            return .topics(name)
        case "brokers":
            if let name, Int32(name) == nil {
                throw KafkaOptions.UsageError(message: "The entity name for brokers must be a valid integer broker id, found: \(name)")
            }
            if options.has("alter") && name == nil && !isDefault {
                throw KafkaOptions.UsageError(message: "an entity name must be specified with --alter of brokers")
            }
            return .brokers(isDefault ? nil : name, isDefault: isDefault)
        default:
            throw KafkaOptions.UsageError(message: "Ferry does not support \(type) configs (quotas and broker loggers); only topics and brokers")
        }
    }

    /// `--add-config 'k1=v1,k2=[v1,v2],k3=v3'` (repeatable) and `--add-config-file`, as Kafka's
    /// `parseConfigsToBeAdded`: commas inside square brackets stay in the value, the brackets go.
    static func configsToAdd(_ options: KafkaOptions) throws -> [String: String] {
        var result = try ToolProperties.file(options.value("add-config-file"))
        for text in options.all("add-config") {
            for pair in Self.splitOutsideBrackets(text, on: ",") where !pair.isEmpty {
                let parts = Self.splitOutsideBrackets(pair, on: "=")
                guard parts.count == 2 else {
                    throw ConfigsFailure(message: "Invalid entity config: all configs to be added must be in the format \"key=val\".")
                }
                result[parts[0].trimmingCharacters(in: .whitespaces)] = parts[1].filter { $0 != "[" && $0 != "]" }.trimmingCharacters(in: .whitespaces)
            }
        }
        return result
    }

    /// `--delete-config k1,k2` (repeatable).
    static func configsToDelete(_ options: KafkaOptions) -> [String] {
        options.all("delete-config").flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }.filter { !$0.isEmpty }
    }

    private static func splitOutsideBrackets(_ text: String, on separator: Character) -> [String] {
        var parts = [""]
        var depth = 0
        for character in text {
            if character == "[" { depth += 1 } else if character == "]" { depth = max(depth - 1, 0) }
            if character == separator && depth == 0 { parts.append("") } else { parts[parts.count - 1].append(character) }
        }
        return parts
    }
}

/// A failure Kafka's ConfigCommand reports by its message alone (InvalidConfigurationException, IllegalArgumentException).
struct ConfigsFailure: Error {
    var message: String
}

/// Where kafka-configs reads and writes: ZooKeeper itself or the brokers' admin API.
protocol ConfigsBackend {
    var options: KafkaOptions { get }
    func describe() async throws
    func alter() async throws
}

extension ConfigsBackend {
    func run() async throws {
        if self.options.has("describe") {
            try await self.describe()
        } else {
            try await self.alter()
        }
    }
}

/// The `--zookeeper` half: Kafka 2.8's `ConfigCommand.processCommandWithZk`.
struct ZooKeeperConfigs: ConfigsBackend {
    let client: ZooKeeperClient
    let options: KafkaOptions
    let entity: ConfigsCommand.Entity

    func describe() async throws {
        switch self.entity {
        case .topics(let name):
            var names = name.map { [$0] } ?? []
            if name == nil { names = try await self.client.children(ZNodes.topicConfigs).sorted() }
            for topic in names {
                print("Configs for topic '\(topic)' are \(Self.joined(try await TopicAdmin(client: self.client).topicConfig(topic)))")
            }
        case .brokers(let name, let isDefault):
            var names = isDefault ? ["<default>"] : name.map { [$0] } ?? []
            if names.isEmpty { names = try await self.client.children(ZNodes.brokerConfigs).sorted() }
            for broker in names {
                let label = broker == "<default>" ? "default brokers" : "brokers '\(broker)'"
                print("Configs for \(label) are \(Self.joined(try await self.entityConfig(ZNodes.brokerConfig(broker))))")
            }
        }
    }

    func alter() async throws {
        let added = try ConfigsCommand.configsToAdd(self.options)
        let deleted = ConfigsCommand.configsToDelete(self.options)
        switch self.entity {
        case .topics(let name):
            let topic = name!
            guard try await self.client.exists(ZNodes.topic(topic)) != nil else {
                throw ToolFailure("org.apache.kafka.common.errors.UnknownTopicOrPartitionException: Topic '\(topic)' does not exist.")
            }
            let admin = TopicAdmin(client: self.client)
            let config = try Self.changed(try await admin.topicConfig(topic), adding: added, deleting: deleted)
            do {
                try TopicConfigRules.validate(config, topic: topic)
            } catch {
                throw ConfigsFailure(message: error.message)
            }
            try await admin.changeTopicConfig(topic, to: config)
            print("Completed updating config for entity: topic '\(topic)'.")
        case .brokers(let name, _):
            // Kafka writes dynamic broker configs through ZooKeeper only while the broker (or, for the cluster default,
            // every broker) is down: a running broker is changed through itself (--bootstrap-server).
            let entity = name ?? "<default>"
            if !added.isEmpty {
                let errorMessage = "--bootstrap-server option must be specified to update broker configs Set(\(added.keys.sorted().joined(separator: ", ")))."
                let info = "Broker configuration updates using ZooKeeper are supported for bootstrapping before brokers are started to enable encrypted password configs to be stored in ZooKeeper."
                if let name {
                    if try await self.client.exists(ZNodes.broker(Int32(name)!)) != nil {
                        throw ConfigsFailure(message: "\(errorMessage) when broker \(name) is running. \(info)")
                    }
                } else if !(try await self.client.children(ZNodes.brokerIds)).isEmpty {
                    throw ConfigsFailure(message: "\(errorMessage) for default cluster if any broker is running. \(info)")
                }
            }
            let admin = TopicAdmin(client: self.client)
            let config = try Self.changed(try await admin.brokerConfig(entity), adding: added, deleting: deleted)
            do {
                try TopicConfigRules.validateDynamicBrokerConfigs(config, entity: name ?? "")
            } catch {
                throw ConfigsFailure(message: error.message)
            }
            try await admin.changeBrokerConfig(entity, to: config)
            print("Completed updating config for entity: \(name.map { "brokers '\($0)'" } ?? "default brokers").")
        }
    }

    /// An entity's stored config with `added` set and `deleted` removed; deleting a key it does not have is Kafka's
    /// "Invalid config(s)" error.
    private static func changed(_ config: [String: String], adding added: [String: String], deleting deleted: [String]) throws -> [String: String] {
        let missing = deleted.filter { config[$0] == nil }
        guard missing.isEmpty else { throw ConfigsFailure(message: "Invalid config(s): \(missing.joined(separator: ","))") }
        var config = config.merging(added) { _, new in new }
        for key in deleted { config.removeValue(forKey: key) }
        return config
    }

    private func entityConfig(_ path: String) async throws -> [String: String] {
        guard let node = try await self.client.getIfExists(path), !node.data.isEmpty else { return [:] }
        return try EntityConfigZNode.decode(node.data, path: path).config
    }

    private static func joined(_ config: [String: String]) -> String {
        config.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }
}

/// The `--bootstrap-server` half: Kafka 2.8's `ConfigCommand.processCommand` for topics and brokers.
struct AdminConfigs: ConfigsBackend {
    let admin: KafkaAdmin
    let options: KafkaOptions
    let entity: ConfigsCommand.Entity

    func describe() async throws {
        let all = self.options.has("all")
        switch self.entity {
        case .topics(let name):
            var names = name.map { [$0] } ?? []
            if name == nil { names = try await self.admin.describeCluster().topics.keys.sorted() }
            let configs = try await self.admin.describeConfigs(.topic, names)
            for topic in names {
                print("\(all ? "All" : "Dynamic") configs for topic \(topic) are:")
                self.printEntries((configs[topic] ?? []).filter { all || $0.source == .dynamicTopicConfig })
            }
        case .brokers(let name, let isDefault):
            var names: [String?] = isDefault ? [nil] : name.map { [$0] } ?? []
            if name == nil && !isDefault {
                names = try await self.admin.describeCluster().brokers.keys.sorted().map { String($0) } + [nil]
            }
            for broker in names {
                if let broker {
                    print("\(all ? "All" : "Dynamic") configs for broker \(broker) are:")
                    self.printEntries(try await self.admin.describeConfigs(.broker, broker).filter { all || $0.source == .dynamicBrokerConfig })
                } else {
                    print("Default configs for brokers in the cluster are:")
                    self.printEntries(try await self.admin.describeConfigs(.broker, "").filter { $0.source == .dynamicDefaultBrokerConfig })
                }
            }
        }
    }

    /// `  name=value sensitive=false synonyms={SOURCE:name=value, ...}`, sorted by name as Kafka prints them.
    private func printEntries(_ entries: [KafkaAdmin.ConfigEntry]) {
        for entry in entries.sorted(by: { $0.name < $1.name }) {
            let synonyms = entry.synonyms.map { "\(Self.sourceName($0.source)):\($0.name)=\($0.value ?? "null")" }.joined(separator: ", ")
            print("  \(entry.name)=\(entry.isSensitive ? "null" : entry.value ?? "null") sensitive=\(entry.isSensitive) synonyms={\(synonyms)}")
        }
    }

    static func sourceName(_ source: KafkaAdmin.ConfigSource) -> String {
        switch source {
        case .unknown: "UNKNOWN"
        case .dynamicTopicConfig: "DYNAMIC_TOPIC_CONFIG"
        case .dynamicBrokerConfig: "DYNAMIC_BROKER_CONFIG"
        case .dynamicDefaultBrokerConfig: "DYNAMIC_DEFAULT_BROKER_CONFIG"
        case .staticBrokerConfig: "STATIC_BROKER_CONFIG"
        case .defaultConfig: "DEFAULT_CONFIG"
        case .dynamicBrokerLoggerConfig: "DYNAMIC_BROKER_LOGGER_CONFIG"
        }
    }

    func alter() async throws {
        let added = try ConfigsCommand.configsToAdd(self.options)
        let deleted = ConfigsCommand.configsToDelete(self.options)
        switch self.entity {
        case .topics(let name):
            let topic = name!
            let current = try await self.admin.describeConfigs(.topic, topic).filter { $0.source == .dynamicTopicConfig }
            let missing = deleted.filter { key in !current.contains { $0.name == key } }
            guard missing.isEmpty else { throw ConfigsFailure(message: "Invalid config(s): \(missing.joined(separator: ","))") }
            var changes: [String: String?] = added.mapValues { $0 }
            for key in deleted { changes[key] = .some(nil) }
            try await self.admin.alterConfigs(.topic, topic, changes)
            print("Completed updating config for topic \(topic).")
        case .brokers(let name, _):
            // Kafka's ConfigCommand checks deletions against the broker's dynamic configs, then sends the new set to that
            // broker (or, for the cluster default, to any).
            let current = try await self.admin.describeConfigs(.broker, name ?? "")
                .filter { $0.source == (name == nil ? .dynamicDefaultBrokerConfig : .dynamicBrokerConfig) }
            let missing = deleted.filter { key in !current.contains { $0.name == key } }
            guard missing.isEmpty else { throw ConfigsFailure(message: "Invalid config(s): \(missing.joined(separator: ","))") }
            var changes: [String: String?] = added.mapValues { $0 }
            for key in deleted { changes[key] = .some(nil) }
            try await self.admin.alterConfigs(.broker, name ?? "", changes)
            print(name.map { "Completed updating config for broker \($0)." } ?? "Completed updating default config for brokers in the cluster.")
        }
    }
}

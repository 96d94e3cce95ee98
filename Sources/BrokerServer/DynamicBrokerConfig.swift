import Coordination
import Logging
import Synchronization
import ZooKeeper

/// The broker's configuration as it stands now: `server.properties`, overlaid by the dynamic broker configs that
/// Kafka keeps in ZooKeeper: `/config/brokers/<default>` for every broker, then `/config/brokers/<id>` for this one
/// (which wins). The broker follows both znodes and replaces a level here when it changes; readers on any thread
/// see one consistent configuration.
final class DynamicBrokerConfig: Sendable {
    /// Where a dynamic value comes from, with DescribeConfigs' config_source numbers.
    enum Level: Int8, Sendable {
        /// `/config/brokers/<id>`: DYNAMIC_BROKER_CONFIG.
        case broker = 2
        /// `/config/brokers/<default>`: DYNAMIC_DEFAULT_BROKER_CONFIG.
        case clusterDefault = 3
    }

    private struct State {
        var levels: [Level: [String: String]] = [:]
        var current: BrokerConfig
    }

    let staticConfig: BrokerConfig
    private let state: Mutex<State>
    private let logger: Logger

    init(static config: BrokerConfig, logger: Logger = Logger(label: "ferry.broker-config")) {
        self.staticConfig = config
        self.state = Mutex(State(current: config))
        self.logger = logger
    }

    /// The configuration in effect.
    var current: BrokerConfig { self.state.withLock { $0.current } }

    /// Reads the configuration in effect without copying it (the produce path asks on every request).
    func read<T>(_ body: (BrokerConfig) -> T) -> T { self.state.withLock { body($0.current) } }

    /// The dynamic values of one level, as stored in ZooKeeper (those this broker applies).
    func values(_ level: Level) -> [String: String] { self.state.withLock { $0.levels[level] ?? [:] } }

    /// Replaces one level's values with what its znode now holds. A key this broker cannot change at run time, or a
    /// value it cannot use, is left out with a warning, as Kafka's brokers skip invalid dynamic configs.
    /// - Returns: whether the configuration in effect changed.
    @discardableResult
    func update(_ level: Level, to values: [String: String]) -> Bool {
        var usable: [String: String] = [:]
        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
            do {
                _ = try self.staticConfig.applyingDynamic([key: value])
                usable[key] = value
            } catch {
                self.logger.warning("ignored the dynamic broker config \(key)=\(value) (\(Self.path(level))): \(error)")
            }
        }
        return self.state.withLock { state in
            guard state.levels[level] ?? [:] != usable else { return false }
            state.levels[level] = usable
            let merged = (state.levels[.clusterDefault] ?? [:]).merging(state.levels[.broker] ?? [:]) { _, perBroker in perBroker }
            // Each value was checked on its own above, so the merged set applies.
            state.current = (try? self.staticConfig.applyingDynamic(merged)) ?? state.current
            return true
        }
    }

    /// The value of a key at one level, if set there.
    func value(of key: String, at level: Level) -> String? { self.state.withLock { $0.levels[level]?[key] } }

    static func path(_ level: Level) -> String { level == .broker ? "/config/brokers/<id>" : "/config/brokers/<default>" }
}

extension DynamicBrokerConfig {
    /// The values a level's znode holds (`nil`: no znode); an unreadable znode counts as empty, with a warning.
    func decode(_ node: NodeData?, path: String) -> [String: String] {
        guard let node, !node.data.isEmpty else { return [:] }
        do {
            return try EntityConfigZNode.decode(node.data, path: path).config
        } catch {
            self.logger.warning("ignored \(path): \(error)")
            return [:]
        }
    }

    /// Follows one level's znode until cancelled, applying each change and then calling `changed`. The broker
    /// watches the znodes themselves rather than `/config/changes`, so that a write without a notification (a tool
    /// that skips it) is seen as well.
    func follow(_ level: Level, path: String, client: ZooKeeperClient, changed: @Sendable () async -> Void) async {
        do {
            for try await node in client.follow(node: path) {
                let values = self.decode(node, path: path)
                guard self.update(level, to: values) else { continue }
                let shown = values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
                self.logger.notice("dynamic broker config from \(path) is now {\(shown)}")
                await changed()
            }
        } catch {
            if !(error is CancellationError) { self.logger.error("stopped following \(path): \(error)") }
        }
    }
}

import KafkaModel
import Logging

/// All partition logs of a broker, spread over its `log.dirs`.
///
/// Each log directory holds `meta.properties` (the broker id that owns it; a directory of another broker is
/// refused), one subdirectory `<topic>-<partition>` per log, and the checkpoints `recovery-point-offset-checkpoint`,
/// `replication-offset-checkpoint` and `log-start-offset-checkpoint`. A clean shutdown leaves `.kafka_cleanshutdown`;
/// at start its presence means no log needs scanning, its absence that logs are recovered from their checkpointed
/// recovery points.
///
/// Not thread-safe: owned by the broker's storage actor.
public final class LogManager {
    public let logDirectories: [String]
    public let brokerId: Int32
    public var defaultConfig: LogConfig
    private var logs: [TopicPartition: (log: PartitionLog, directory: String)] = [:]
    /// The high watermarks last checkpointed: what the cleaner may compact below.
    private var highWatermarks: [TopicPartition: Int64] = [:]
    /// Logs whose cleaning failed (Kafka's uncleanable partitions).
    private var uncleanable: Set<TopicPartition> = []
    /// Set by `shutdown`: a cleaning that finishes afterwards is not applied.
    private var isShutDown = false
    /// `log.cleaner.dedupe.buffer.size`: the most memory one cleaning's key map takes.
    public var cleanerKeyMapBytes = LogCleaner.defaultKeyMapBytes
    /// `producer.id.expiration.ms`: idempotent producers idle this long are forgotten at the next maintenance
    /// (Kafka's default, one day).
    public var producerIdExpirationMs: Int64 = 86_400_000
    /// Configs of topics that override the default, for their logs present and future.
    private var topicConfigs: [String: LogConfig] = [:]
    private let clock: @Sendable () -> Int64
    private let logger: Logger
    static let cleanShutdownFile = ".kafka_cleanshutdown"
    static let deletedSuffix = "-delete"

    /// Opens every log directory and loads the logs in it.
    /// - Throws: `LogStorageError(.foreignLogDirectory)` if a directory belongs to another broker id.
    public init(
        logDirectories: [String], brokerId: Int32, clusterId: String? = nil, defaultConfig: LogConfig = LogConfig(),
        topicConfigs: (TopicPartition) -> LogConfig? = { _ in nil },
        clock: @escaping @Sendable () -> Int64 = { wallClockMillis() }, logger: Logger = Logger(label: "ferry.log-manager")
    ) throws {
        guard !logDirectories.isEmpty else { throw LogStorageError(.invalidConfig, "log.dirs is empty") }
        self.logDirectories = logDirectories
        self.brokerId = brokerId
        self.defaultConfig = defaultConfig
        self.clock = clock
        self.logger = logger
        for directory in logDirectories {
            try FileSystem.createDirectory(directory)
            try Self.checkOwnership(directory, brokerId: brokerId, clusterId: clusterId)
            let clean = FileSystem.exists(directory + "/" + Self.cleanShutdownFile)
            let recoveryPoints = try OffsetCheckpointFile(path: directory + "/recovery-point-offset-checkpoint").read()
            let startOffsets = try OffsetCheckpointFile(path: directory + "/log-start-offset-checkpoint").read()
            var loaded = 0
            for name in try FileSystem.list(directory) where FileSystem.isDirectory(directory + "/" + name) {
                if name.hasSuffix(Self.deletedSuffix) {
                    // A deletion interrupted by a crash: finish it.
                    try FileSystem.removeDirectory(directory + "/" + name)
                    continue
                }
                guard let partition = TopicPartition(directoryName: name) else { continue }
                let log = try PartitionLog.open(
                    directory: directory + "/" + name, config: topicConfigs(partition) ?? defaultConfig,
                    recoveryPoint: clean ? Int64.max : recoveryPoints[partition] ?? 0,
                    logStartOffset: startOffsets[partition] ?? 0, clock: clock, logger: logger)
                self.logs[partition] = (log, directory)
                loaded += 1
            }
            // From here on a crash is an unclean shutdown.
            try FileSystem.remove(directory + "/" + Self.cleanShutdownFile)
            logger.info("loaded \(loaded) logs from \(directory) after \(clean ? "a clean shutdown" : "an unclean shutdown: recovered from checkpoints")")
        }
    }

    /// Reads or writes the directory's `meta.properties` and refuses a directory of another broker.
    private static func checkOwnership(_ directory: String, brokerId: Int32, clusterId: String?) throws {
        let path = directory + "/meta.properties"
        if let text = try FileSystem.readText(path) {
            let properties = Dictionary(
                text.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { line -> (String, String)? in
                    guard let equals = line.firstIndex(of: "=") else { return nil }
                    return (String(line[..<equals]), String(line[line.index(after: equals)...]))
                }, uniquingKeysWith: { _, last in last })
            if let stored = properties["broker.id"], stored != String(brokerId) {
                throw LogStorageError(
                    .foreignLogDirectory,
                    "configured broker.id \(brokerId) doesn't match stored broker.id \(stored) in meta.properties. "
                        + "If you moved your data, make sure your configured broker.id matches. If you intend to create a "
                        + "new broker, you should remove all data in your data directories (log.dirs).",
                    path: path)
            }
            return
        }
        var text = "#\n#Written by Ferry\nversion=0\nbroker.id=\(brokerId)\n"
        if let clusterId { text += "cluster.id=\(clusterId)\n" }
        try FileSystem.writeAtomically(text, to: path)
    }

    public var partitions: [TopicPartition] { self.logs.keys.sorted() }

    public func log(_ partition: TopicPartition) -> PartitionLog? { self.logs[partition]?.log }

    /// One log directory's contents and space, as DescribeLogDirs reports them.
    public struct DirectoryUsage: Sendable {
        public var directory: String
        /// Every log in the directory with its size on disk, sorted by partition.
        public var logs: [(partition: TopicPartition, sizeInBytes: Int64)]
        /// The file system's size and the space left to this process (statvfs), nil if it cannot be read.
        public var totalBytes: Int64?
        public var usableBytes: Int64?
    }

    /// What each of `log.dirs` holds, in configured order.
    public func directoryUsage() -> [DirectoryUsage] {
        self.logDirectories.map { directory in
            let logs = self.logs.filter { $0.value.directory == directory }.keys.sorted().map { ($0, self.logs[$0]!.log.sizeInBytes) }
            let space = FileSystem.space(directory)
            return DirectoryUsage(directory: directory, logs: logs, totalBytes: space?.total, usableBytes: space?.usable)
        }
    }

    /// Sets the config of `topic`'s logs, present and future.
    public func setConfig(_ config: LogConfig, topic: String) {
        if config == self.defaultConfig { self.topicConfigs.removeValue(forKey: topic) } else { self.topicConfigs[topic] = config }
        for (partition, entry) in self.logs where partition.topic == topic && entry.log.config != config {
            entry.log.updateConfig(config)
            self.logger.info("config of \(partition) updated")
        }
    }

    /// Replaces the broker's log defaults (a dynamic broker config changed) together with the configs of the topics
    /// that override some setting, each already combined with the new defaults; every log takes its new config.
    public func setDefaultConfig(_ config: LogConfig, topicConfigs: [String: LogConfig]) {
        self.defaultConfig = config
        self.topicConfigs = topicConfigs.filter { $0.value != config }
        var updated = 0
        for (partition, entry) in self.logs {
            let wanted = self.topicConfigs[partition.topic] ?? config
            if entry.log.config != wanted {
                entry.log.updateConfig(wanted)
                updated += 1
            }
        }
        self.logger.info("log defaults changed; \(updated) logs take new settings")
    }

    /// The log of `partition`, created in the log directory holding the fewest partitions if it is new, with
    /// `config`, else its topic's, else the default.
    public func getOrCreateLog(_ partition: TopicPartition, config: LogConfig? = nil) throws -> PartitionLog {
        if let existing = self.logs[partition] { return existing.log }
        let config = config ?? self.topicConfigs[partition.topic]
        let counts = Dictionary(grouping: self.logs.values, by: \.directory).mapValues(\.count)
        let directory = self.logDirectories.min { counts[$0, default: 0] < counts[$1, default: 0] }!
        let log = try PartitionLog.open(
            directory: directory + "/" + partition.description, config: config ?? self.defaultConfig, clock: self.clock,
            logger: self.logger)
        self.logs[partition] = (log, directory)
        self.logger.info("created log for \(partition) in \(directory)")
        return log
    }

    /// Deletes a partition's log and its directory (topic deletion). Like Kafka, the directory is first renamed to
    /// `<topic>-<partition>.<random>-delete`, so a crash halfway leaves nothing that loads as a log again.
    public func deleteLog(_ partition: TopicPartition) throws {
        guard let (log, directory) = self.logs.removeValue(forKey: partition) else { return }
        let doomed = directory + "/" + partition.description + "." + String(UInt64.random(in: 0 ... .max), radix: 16) + Self.deletedSuffix
        try FileSystem.rename(log.directory, doomed)
        try FileSystem.removeDirectory(doomed)
        self.logger.info("deleted log for \(partition)")
    }

    /// Deletes the logs of every partition of `topic` here. - Returns: the partitions deleted.
    @discardableResult
    public func deleteLogs(topic: String) throws -> [TopicPartition] {
        let doomed = self.logs.keys.filter { $0.topic == topic }.sorted()
        for partition in doomed { try self.deleteLog(partition) }
        return doomed
    }

    /// Applies retention to every log. - Returns: segments deleted.
    @discardableResult
    public func applyRetention() throws -> Int {
        try self.logs.values.reduce(0) { $0 + (try $1.log.applyRetention()) }
    }

    /// The `cleanup.policy=compact` logs the cleaner looks at, in partition order: those with a checkpointed high
    /// watermark (a log with none yet is left alone) whose cleaning has not failed.
    func cleaningCandidates() -> [TopicPartition] {
        self.logs.filter { $0.value.log.config.compacts && self.highWatermarks[$0.key] != nil && !self.uncleanable.contains($0.key) }
            .keys.sorted()
    }

    /// The cleaning due for `partition`'s log below its last checkpointed high watermark, if any.
    func planCleaning(_ partition: TopicPartition) -> LogCleaner.Plan? {
        guard !self.isShutDown, let log = self.logs[partition]?.log, let highWatermark = self.highWatermarks[partition] else { return nil }
        do {
            return try log.planCompaction(below: highWatermark, keyMapBytes: self.cleanerKeyMapBytes)
        } catch {
            self.markUncleanable(partition, error)
            return nil
        }
    }

    /// Applies what `LogCleaner.run` made of `plan` to `partition`'s log, if it is still there and still holds the
    /// planned segments. - Returns: records removed.
    @discardableResult
    func finishCleaning(_ partition: TopicPartition, plan: LogCleaner.Plan, outcome: Result<LogCleaner.Cleaning, any Error>) -> Int {
        // A log deleted (or deleted and created again) meanwhile is not the log of the plan.
        guard !self.isShutDown, let log = self.logs[partition]?.log, log.directory == plan.directory else {
            if case .success(let cleaning) = outcome { LogCleaner.discard(cleaning.groups) }
            return 0
        }
        do {
            return try log.finishCompaction(plan, cleaning: try outcome.get()) ?? 0
        } catch is CancellationError {
            return 0
        } catch where !log.isCurrent(plan) {
            // Read while a truncation shortened a planned segment, say: the cleaning was stale, not the log bad.
            self.logger.info("abandoned a cleaning of \(partition): the log changed meanwhile (\(error))")
            return 0
        } catch {
            self.markUncleanable(partition, error)
            return 0
        }
    }

    /// As Kafka's cleaner marks a partition uncleanable: one bad log must not stop the others' cleaning.
    private func markUncleanable(_ partition: TopicPartition, _ error: any Error) {
        self.uncleanable.insert(partition)
        self.logger.error("log cleaning of \(partition) failed, it is no longer cleaned until a restart: \(error)")
    }

    /// The periodic work of `log.retention.check.interval.ms`: retention, due `flush.ms` flushes, expired idempotent
    /// producers, checkpoints.
    /// - Returns: segments deleted by retention.
    @discardableResult
    public func runMaintenance() throws -> Int {
        let deleted = try self.applyRetention()
        for (log, _) in self.logs.values {
            try log.flushIfDue()
            log.removeExpiredProducers(expirationMs: self.producerIdExpirationMs)
        }
        try self.checkpoint()
        return deleted
    }

    /// Writes the recovery-point and log-start checkpoints of every directory.
    public func checkpoint() throws {
        for directory in self.logDirectories {
            let here = self.logs.filter { $0.value.directory == directory }
            try OffsetCheckpointFile(path: directory + "/recovery-point-offset-checkpoint").write(here.mapValues { $0.log.recoveryPoint })
            try OffsetCheckpointFile(path: directory + "/log-start-offset-checkpoint").write(here.mapValues { $0.log.logStartOffset })
        }
    }

    /// Writes each directory's `replication-offset-checkpoint` from the high watermarks the caller keeps.
    public func checkpointHighWatermarks(_ highWatermarks: [TopicPartition: Int64]) throws {
        self.highWatermarks = highWatermarks
        for directory in self.logDirectories {
            let here = highWatermarks.filter { self.logs[$0.key]?.directory == directory }
            try OffsetCheckpointFile(path: directory + "/replication-offset-checkpoint").write(here)
        }
    }

    /// The high watermarks saved by `checkpointHighWatermarks`, for a broker starting up.
    public func savedHighWatermarks() throws -> [TopicPartition: Int64] {
        try self.logDirectories.reduce(into: [:]) { result, directory in
            result.merge(try OffsetCheckpointFile(path: directory + "/replication-offset-checkpoint").read()) { $1 }
        }
    }

    /// Flushes and closes every log, writes the checkpoints and the clean-shutdown marker.
    public func shutdown() throws {
        self.isShutDown = true
        for (log, _) in self.logs.values { try log.close() }
        try self.checkpoint()
        for directory in self.logDirectories {
            try FileSystem.writeAtomically("", to: directory + "/" + Self.cleanShutdownFile)
        }
        self.logger.info("log manager shut down cleanly (\(self.logs.count) logs)")
    }
}

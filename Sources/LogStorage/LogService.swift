import KafkaModel
import Logging

/// The broker's storage as an actor: it owns the `LogManager` and its logs, serializes every access to them,
/// and runs the periodic maintenance (retention, `flush.ms` flushes, checkpoints) every
/// `log.retention.check.interval.ms` and the log cleaner every `log.cleaner.backoff.ms` while `run()` is running.
public actor LogService {
    private let manager: LogManager
    private let maintenanceInterval: Duration
    private let cleanerInterval: Duration?
    private let logger: Logger

    /// - Parameters:
    ///   - maintenanceInterval: Kafka's `log.retention.check.interval.ms` (default 5 minutes).
    ///   - cleanerInterval: Kafka's `log.cleaner.backoff.ms` (default 15 s), how often compacted logs are looked
    ///     at; `nil` is `log.cleaner.enable=false`.
    public init(
        manager: sending LogManager, maintenanceInterval: Duration = .seconds(300), cleanerInterval: Duration? = .seconds(15),
        logger: Logger = Logger(label: "ferry.log-service")
    ) {
        self.manager = manager
        self.maintenanceInterval = maintenanceInterval
        self.cleanerInterval = cleanerInterval
        self.logger = logger
    }

    /// Runs maintenance and cleaning at their intervals until the task is cancelled. Failures are logged and retried
    /// next time.
    public func run() async {
        let clock = ContinuousClock()
        var nextMaintenance = clock.now + self.maintenanceInterval
        var nextCleaning = self.cleanerInterval.map { clock.now + $0 }
        while !Task.isCancelled {
            do {
                try await Task.sleep(until: min(nextMaintenance, nextCleaning ?? nextMaintenance), clock: clock)
            } catch {
                return
            }
            if let due = nextCleaning, let interval = self.cleanerInterval, clock.now >= due {
                await self.cleanLogs()
                nextCleaning = clock.now + interval
            }
            if clock.now >= nextMaintenance {
                do {
                    let deleted = try self.manager.runMaintenance()
                    if deleted > 0 { self.logger.info("retention deleted \(deleted) log segments") }
                } catch {
                    self.logger.error("log maintenance failed: \(error)")
                }
                nextMaintenance = clock.now + self.maintenanceInterval
            }
        }
    }

    /// Cleans the compacted logs that are due, one after the other. Each cleaning is planned and applied on this
    /// actor, but reads and writes its files off it (`LogCleaner.clean`), so produces and fetches, which all go
    /// through this actor, are not held up by a cleaning of many segments.
    private func cleanLogs() async {
        for partition in self.manager.cleaningCandidates() {
            guard !Task.isCancelled else { return }
            guard let plan = self.manager.planCleaning(partition) else { continue }
            let outcome: Result<LogCleaner.Cleaning, any Error>
            do {
                outcome = .success(try await LogCleaner.clean(plan))
            } catch {
                outcome = .failure(error)
            }
            self.manager.finishCleaning(partition, plan: plan, outcome: outcome)
        }
    }

    /// Runs `body` with the log of `partition`, creating it if `create` (with `config`, else the default).
    /// - Returns: `nil` if the log does not exist and `create` is false.
    public func withLog<T: Sendable>(
        _ partition: TopicPartition, create: Bool = false, config: LogConfig? = nil, _ body: (PartitionLog) throws -> T
    ) throws -> T? {
        guard let log = create ? try self.manager.getOrCreateLog(partition, config: config) : self.manager.log(partition) else {
            return nil
        }
        return try body(log)
    }

    public func partitions() -> [TopicPartition] { self.manager.partitions }

    /// What each log directory holds (DescribeLogDirs).
    public func directoryUsage() -> [LogManager.DirectoryUsage] { self.manager.directoryUsage() }

    public func deleteLog(_ partition: TopicPartition) throws { try self.manager.deleteLog(partition) }

    /// Deletes the logs of every partition of `topic` here. - Returns: the partitions deleted.
    @discardableResult
    public func deleteLogs(topic: String) throws -> [TopicPartition] { try self.manager.deleteLogs(topic: topic) }

    /// Sets the config of `topic`'s logs, present and future (a topic's overrides over the broker's defaults).
    public func setConfig(_ config: LogConfig, topic: String) { self.manager.setConfig(config, topic: topic) }

    /// Replaces the log defaults and, combined with them, the configs of topics with overrides.
    public func setDefaultConfig(_ config: LogConfig, topicConfigs: [String: LogConfig]) {
        self.manager.setDefaultConfig(config, topicConfigs: topicConfigs)
    }

    /// The high watermarks of the last `checkpointHighWatermarks`.
    public func savedHighWatermarks() throws -> [TopicPartition: Int64] { try self.manager.savedHighWatermarks() }

    public func checkpointHighWatermarks(_ highWatermarks: [TopicPartition: Int64]) throws {
        try self.manager.checkpointHighWatermarks(highWatermarks)
    }

    /// Clean shutdown: flush, close, checkpoints, clean-shutdown marker.
    public func shutdown() throws { try self.manager.shutdown() }
}

import Controller
import Coordination
import Dispatch
import Foundation
import GroupCoordinator
import KafkaClient
import KafkaModel
import KafkaProtocol
import Logging
import LogStorage
import NIOCore
import ZooKeeper

/// A Ferry broker: composes the ZooKeeper session, storage, the metadata cache and the Kafka listener, in Kafka's
/// start-up order, and takes them down in reverse on SIGTERM/SIGINT (stop accepting, deregister, write the
/// clean-shutdown checkpoints, close the session).
public enum Broker {
    /// Runs the broker until SIGTERM or SIGINT.
    /// - Throws: on a start-up failure (ZooKeeper unreachable, broker id held, log directory of another broker,
    ///   listener port taken), with a message fit for one line.
    public static func run(config: BrokerConfig, logger: Logger = Logger(label: "ferry.broker")) async throws {
        for warning in config.warnings { logger.warning("server.properties: \(warning)") }
        let connect = config.zookeeperConnect!
        let sessionTimeout = Duration.milliseconds(config.zookeeperSessionTimeoutMs)
        let connectionTimeout = Duration.milliseconds(config.zookeeperConnectionTimeoutMs ?? config.zookeeperSessionTimeoutMs)
        let zookeeper = try await ZooKeeperClient.connect(.init(
            connectString: connect, sessionTimeout: sessionTimeout, connectionTimeout: connectionTimeout,
            logger: Logger(label: "ferry.zookeeper")))
        if let chroot = connect.chroot, (try? await zookeeper.exists("/")) == nil {
            // Kafka creates a missing chroot itself, through a session without it (a second session, so only then).
            do {
                let root = try await ZooKeeperClient.connect(.init(
                    connectString: ConnectString(servers: connect.servers), sessionTimeout: sessionTimeout, connectionTimeout: connectionTimeout))
                try await root.createRecursively(chroot)
                await root.close()
            } catch {
                await zookeeper.close()
                throw error
            }
        }
        do {
            try await self.serve(config: config, zookeeper: zookeeper, logger: logger)
        } catch {
            await zookeeper.close()
            throw error
        }
        await zookeeper.close()
    }

    private static func serve(config: BrokerConfig, zookeeper: ZooKeeperClient, logger: Logger) async throws {
        let clusterId = try await BrokerRegistrar.prepareCluster(zookeeper)
        var logger = logger
        let brokerId = try await self.brokerId(config: config, zookeeper: zookeeper)
        logger[metadataKey: "broker"] = "\(brokerId)"
        let topicAdmin = TopicAdmin(client: zookeeper)
        // Dynamic broker configs apply from the start, as in Kafka: read both levels before anything uses them.
        let dynamic = DynamicBrokerConfig(static: config, logger: logger)
        let levels: [(DynamicBrokerConfig.Level, String)] = [(.clusterDefault, "<default>"), (.broker, String(brokerId))]
        async let defaultLevel = zookeeper.getIfExists(ZNodes.brokerConfig(levels[0].1))
        async let brokerLevel = zookeeper.getIfExists(ZNodes.brokerConfig(levels[1].1))
        dynamic.update(.clusterDefault, to: dynamic.decode(try await defaultLevel, path: ZNodes.brokerConfig(levels[0].1)))
        dynamic.update(.broker, to: dynamic.decode(try await brokerLevel, path: ZNodes.brokerConfig(levels[1].1)))
        let logs = try LogManager(logDirectories: config.logDirs, brokerId: brokerId, clusterId: clusterId, defaultConfig: dynamic.current.log)
        logs.cleanerKeyMapBytes = config.logCleanerDedupeBufferSize
        logs.producerIdExpirationMs = config.producerIdExpirationMs
        let storage = LogService(
            manager: logs, maintenanceInterval: .milliseconds(config.logRetentionCheckIntervalMs),
            cleanerInterval: config.logCleanerEnable ? .milliseconds(max(config.logCleanerBackoffMs, 1)) : nil)
        let metadata = MetadataCache(client: zookeeper)

        let replication = ReplicationState(brokerId: brokerId, checkpointedHighWatermarks: (try? await storage.savedHighWatermarks()) ?? [:])
        let replicas = ReplicaManager(
            brokerId: brokerId, metadata: metadata, storage: storage, notifier: AppendNotifier(), replication: replication,
            stateWriter: PartitionStateWriter(client: zookeeper))
        let fetchers = ReplicaFetchers(brokerId: brokerId, metadata: metadata, storage: storage, replication: replication)
        let controller = Controller(
            brokerId: brokerId, client: zookeeper, deleteTopicEnable: config.deleteTopicEnable,
            uncleanLeaderElectionEnable: { dynamic.read(\.uncleanLeaderElectionEnable) })
        var router = RequestRouter()
        router.register(MetadataHandler(cache: metadata, clusterId: clusterId, topicAdmin: topicAdmin, config: config))
        router.register(CreateTopicsHandler(controller: controller, cache: metadata, admin: topicAdmin, config: config))
        router.register(ProduceHandler(replicas: replicas, config: dynamic))
        router.register(FetchHandler(replicas: replicas))
        router.register(ListOffsetsHandler(replicas: replicas))
        router.register(InitProducerIdHandler(producerIds: ProducerIdManager(brokerId: brokerId, client: zookeeper)))
        router.register(DescribeClusterHandler(cache: metadata, clusterId: clusterId))
        router.register(DeleteTopicsHandler(controller: controller, cache: metadata, admin: topicAdmin, deleteTopicEnable: config.deleteTopicEnable))
        router.register(CreatePartitionsHandler(controller: controller, cache: metadata, admin: topicAdmin))
        router.register(ControlledShutdownHandler(controller: controller))
        router.register(ElectLeadersHandler(controller: controller))
        router.register(DescribeLogDirsHandler(storage: storage))
        let configs = ConfigManager(brokerId: brokerId, config: dynamic, cache: metadata, admin: topicAdmin)
        router.register(DescribeConfigsHandler(configs: configs))
        router.register(AlterConfigsHandler(configs: configs))
        router.register(IncrementalAlterConfigsHandler(configs: configs))
        router.register(OffsetForLeaderEpochHandler(replicas: replicas))
        var groupSettings = GroupCoordinatorSettings()
        groupSettings.minSessionTimeoutMs = config.groupMinSessionTimeoutMs
        groupSettings.maxSessionTimeoutMs = config.groupMaxSessionTimeoutMs
        groupSettings.initialRebalanceDelayMs = config.groupInitialRebalanceDelayMs
        groupSettings.maxGroupSize = Int(config.groupMaxSize)
        var groupLogger = Logger(label: "ferry.group-coordinator")
        groupLogger[metadataKey: "broker"] = "\(brokerId)"
        let groups = GroupCoordination(
            brokerId: brokerId, cache: metadata, admin: topicAdmin, client: zookeeper,
            coordinator: GroupCoordinator(settings: groupSettings, logger: groupLogger), offsets: ConsumerOffsetStore(client: zookeeper),
            config: config, logger: groupLogger)
        router.register(FindCoordinatorHandler(groups: groups))
        router.register(JoinGroupHandler(groups: groups))
        router.register(SyncGroupHandler(groups: groups))
        router.register(HeartbeatHandler(groups: groups))
        router.register(LeaveGroupHandler(groups: groups))
        router.register(OffsetCommitHandler(groups: groups))
        router.register(OffsetFetchHandler(groups: groups))
        router.register(DescribeGroupsHandler(groups: groups))
        router.register(ListGroupsHandler(groups: groups))
        router.register(DeleteGroupsHandler(groups: groups))
        router.registerApiVersions()

        try await withThrowingDiscardingTaskGroup { group in
            // The cache loads before the broker listens, so that no client is answered from an empty one.
            group.addTask { await metadata.run() }
            guard await metadata.waitUntilLoaded(timeout: .milliseconds(config.zookeeperConnectionTimeoutMs ?? config.zookeeperSessionTimeoutMs)) else {
                throw BrokerStartError("could not load the cluster metadata from ZooKeeper in time")
            }
            let listener = config.listeners[0]
            let server = try await KafkaServer.bind(
                host: listener.host, port: listener.port, router: router, maxFrameBytes: config.socketRequestMaxBytes, logger: logger)
            let advertised = config.effectiveAdvertisedListeners.map { listener in
                (listener: listener.name, host: listener.host.isEmpty || listener.host == "0.0.0.0" ? ProcessInfo.processInfo.hostName : listener.host,
                 port: Int32(server.localAddress?.port ?? listener.port))
            }
            let registrar = BrokerRegistrar(brokerId: brokerId, client: zookeeper) {
                BrokerRegistration(endpoints: advertised, rack: config.brokerRack, timestamp: wallClockMillis())
            }
            do {
                // ZooKeeper expires sessions in tick-sized buckets, and a quorum must agree: allow twice the timeout.
                try await registrar.register(staleSessionWait: .milliseconds(2 * config.zookeeperSessionTimeoutMs + 1_000))
            } catch {
                server.stopAccepting()
                throw error
            }
            // Serve as started only once this broker sees itself live, so its answers list it and its leaderships.
            if !(await metadata.waitForBroker(brokerId, timeout: .seconds(10))) {
                logger.warning("the metadata cache does not show this broker's registration yet; serving anyway")
            }
            logger.notice("[KafkaServer id=\(brokerId)] started: cluster \(clusterId), listening on \(advertised.map { "\($0.listener)://\($0.host):\($0.port)" }.joined(separator: ","))")
            group.addTask { try? await server.run() }
            group.addTask { await storage.run() }
            group.addTask { await controller.run() }
            group.addTask { await groups.coordinator.run() }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(config.offsetsRetentionCheckIntervalMs))
                    await groups.expireOffsets()
                }
            }
            // Owned here rather than by the group: a stopping broker ends its fetching first (below).
            let fetching = Task { await fetchers.run() }
            group.addTask {
                var generation = -1
                while !Task.isCancelled {
                    await replicas.metadataChanged()
                    await groups.metadataChanged()
                    generation = await metadata.waitForChange(after: generation, timeout: .seconds(5))
                }
            }
            if config.autoLeaderRebalanceEnable {
                group.addTask { [logger] in
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(config.leaderImbalanceCheckIntervalSeconds))
                        do {
                            try await controller.rebalanceLeaders(imbalancePercentage: config.leaderImbalancePerBrokerPercentage)
                        } catch {
                            logger.warning("automatic leader rebalancing failed: \(error)")
                        }
                    }
                }
            }
            group.addTask { [logger] in
                // Every half replica.lag.time.max.ms: lagging followers leave the ISRs this broker leads; every
                // 5 s (replica.high.watermark.checkpoint.interval.ms) the high watermarks are checkpointed.
                var lastCheckpoint = ContinuousClock.now
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(max(config.replicaLagTimeMaxMs / 2, 100)))
                    await replicas.shrinkIsrs(lagMs: config.replicaLagTimeMaxMs)
                    if ContinuousClock.now - lastCheckpoint >= .seconds(5) {
                        lastCheckpoint = .now
                        do {
                            try await storage.checkpointHighWatermarks(await replication.allHighWatermarks())
                        } catch {
                            logger.warning("could not checkpoint high watermarks: \(error)")
                        }
                    }
                }
            }
            // Log settings come from a topic's overrides over the broker's defaults, and both can change: one task
            // applies the changes of either kind in the order they were seen.
            let (logConfigChanges, logConfigChanged) = AsyncStream.makeStream(of: LogConfigChange.self)
            for (level, name) in levels {
                group.addTask {
                    await dynamic.follow(level, path: ZNodes.brokerConfig(name), client: zookeeper) {
                        logConfigChanged.yield(.brokerDefaults)
                        await controller.configsChanged()
                    }
                }
            }
            group.addTask {
                for await change in logConfigChanges {
                    let defaults = dynamic.current.log
                    switch change {
                    case .topic(let topic, let overrides):
                        await storage.setConfig(TopicConfigs.logConfig(overrides, broker: defaults), topic: topic)
                    case .brokerDefaults:
                        let topics = await metadata.topics.compactMapValues { $0.config.isEmpty ? nil : TopicConfigs.logConfig($0.config, broker: defaults) }
                        await storage.setDefaultConfig(defaults, topicConfigs: topics)
                    }
                }
            }
            group.addTask { [logger] in
                for await event in metadata.topicEvents {
                    switch event {
                    case .deleted(let topic):
                        await replication.forget(topic: topic)
                        // Replicas of deleted topics go with them (Kafka's StopReplica with delete=true).
                        do {
                            let deleted = try await storage.deleteLogs(topic: topic)
                            if !deleted.isEmpty { logger.info("deleted the logs of \(deleted.map(\.description).joined(separator: ", "))") }
                        } catch {
                            logger.error("could not delete the logs of topic \(topic): \(error)")
                        }
                    case .configured(let topic, let overrides):
                        logConfigChanged.yield(.topic(topic, overrides))
                        await controller.configsChanged()
                    }
                }
            }
            let signal = await self.waitForTerminationSignal()
            logger.notice("[KafkaServer id=\(brokerId)] shutting down on \(signal)")
            // Stop following before the controller moves leaderships: a follower still fetching from a partition's
            // new leader is taken back into its ISR, and acks=all then waits for a broker that is going away (the
            // controller's StopReplica does this in Kafka).
            fetching.cancel()
            await fetching.value
            logger.info("stopped the replica fetchers")
            if config.controlledShutdownEnable {
                await self.controlledShutdown(
                    brokerId: brokerId, brokerEpoch: await registrar.brokerEpoch, config: config, metadata: metadata, controller: controller,
                    logger: logger)
            }
            // Long polls are answered now; requests being served finish and get their responses.
            await replicas.notifier.wakeAllForShutdown()
            await replication.wakeAll()
            await groups.coordinator.shutDown()
            let unfinished = await server.drain(timeout: .seconds(10))
            logger.info("stopped serving requests\(unfinished > 0 ? " (\(unfinished) connections did not finish in time)" : "")")
            await registrar.deregister()
            group.cancelAll()
        }
        do {
            try await storage.checkpointHighWatermarks(await replication.allHighWatermarks())
            try await storage.shutdown()
        } catch {
            logger.error("clean shutdown of the logs failed: \(error); they will be recovered at the next start")
        }
        logger.notice("[KafkaServer id=\(brokerId)] shut down completed")
    }

    /// Asks the controller to move this broker's leaderships away (Kafka's controlled shutdown), retrying while
    /// partitions remain, up to `controlled.shutdown.max.retries`; then the broker stops anyway.
    private static func controlledShutdown(
        brokerId: Int32, brokerEpoch: Int64, config: BrokerConfig, metadata: MetadataCache, controller: Controller, logger: Logger
    ) async {
        for attempt in 0...config.controlledShutdownMaxRetries {
            do {
                let remaining: [TopicPartition]
                if await controller.isActive {
                    remaining = try await controller.controlledShutdown(of: brokerId, brokerEpoch: brokerEpoch)
                } else {
                    guard let id = await metadata.controllerId, let registration = await metadata.brokers[id],
                          let endpoint = registration.parsedEndpoints.first
                    else { throw BrokerStartError("no controller is known") }
                    let connection = try await BrokerConnection.connect(host: endpoint.host, port: Int(endpoint.port), clientId: "ferry-broker-\(brokerId)")
                    defer { Task { await connection.close() } }
                    let response = try await connection.send(ControlledShutdownRequest(brokerId: brokerId, brokerEpoch: brokerEpoch), version: 3)
                    guard response.errorCode == 0 else { throw BrokerStartError("the controller answered error \(response.errorCode)") }
                    remaining = response.remainingPartitions.map { TopicPartition($0.topicName, $0.partitionIndex) }
                }
                if remaining.isEmpty {
                    logger.notice("controlled shutdown succeeded: no partition is led here any more")
                    return
                }
                logger.warning("controlled shutdown: \(remaining.count) partitions have no other in-sync replica to lead them")
            } catch {
                logger.warning("controlled shutdown attempt \(attempt + 1) failed: \(error)")
            }
            if attempt < config.controlledShutdownMaxRetries {
                try? await Task.sleep(for: .milliseconds(min(config.controlledShutdownRetryBackoffMs, 1_000)))
            }
        }
        logger.warning("proceeding with an unclean shutdown: leaderships move when the session expires")
    }

    /// `broker.id`, or for -1 the id stored in `meta.properties`, or a new one from `/brokers/seqid` (Kafka:
    /// `reserved.broker.max.id` 1000 plus the znode's version).
    private static func brokerId(config: BrokerConfig, zookeeper: ZooKeeperClient) async throws -> Int32 {
        if config.brokerId >= 0 { return config.brokerId }
        for directory in config.logDirs {
            if let text = try? String(contentsOfFile: directory + "/meta.properties", encoding: .utf8),
               let line = text.split(separator: "\n").first(where: { $0.hasPrefix("broker.id=") }),
               let id = Int32(line.dropFirst("broker.id=".count))
            {
                return id
            }
        }
        let stat = try await zookeeper.set("/brokers/seqid", data: [])
        return 1000 + stat.version
    }

    /// Waits for SIGTERM or SIGINT (which no longer terminate the process by default) and returns its name.
    private static func waitForTerminationSignal() async -> String {
        await withCheckedContinuation { (continuation: CheckedContinuation<String, Never>) in
            let once = SignalOnce(continuation)
            for (number, name) in [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { once.fire(name) }
                source.resume()
                once.keep(source)
            }
        }
    }
}

/// Resumes the signal continuation once, whichever signal comes first, and keeps the sources alive.
private final class SignalOnce: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<String, Never>?
    private var sources: [any DispatchSourceSignal] = []

    init(_ continuation: CheckedContinuation<String, Never>) { self.continuation = continuation }

    func keep(_ source: any DispatchSourceSignal) {
        self.lock.lock()
        self.sources.append(source)
        self.lock.unlock()
    }

    func fire(_ name: String) {
        self.lock.lock()
        let continuation = self.continuation
        self.continuation = nil
        self.lock.unlock()
        continuation?.resume(returning: name)
    }
}

/// A start-up failure with a message fit for one line.
struct BrokerStartError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// What changed about the settings of logs: one topic's overrides, or the broker's defaults.
private enum LogConfigChange: Sendable {
    case topic(String, [String: String])
    case brokerDefaults
}

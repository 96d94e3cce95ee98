import Coordination
import KafkaClient
import KafkaModel
import KafkaProtocol
import KafkaRecords
import Logging
import LogStorage
import NIOCore
import Synchronization

/// The follower side of replication (Kafka's `ReplicaFetcherManager` and `ReplicaFetcherThread`): for every
/// partition this broker replicates but does not lead, it fetches from the leader with the Fetch API (replica id
/// set), one connection and one fetch loop per leader broker, and appends what it gets as the leader wrote it.
/// Whenever the leader epoch of a partition changes, it first asks the leader (OffsetForLeaderEpoch) where its
/// own last epoch ends there and truncates its log to that point, so that logs never diverge.
/// Who leads what comes from the metadata cache (partition state znodes); the set of fetchers follows its changes.
struct ReplicaFetchers: Sendable {
    let brokerId: Int32
    let metadata: MetadataCache
    let storage: LogService
    let replication: ReplicationState
    var fetchMaxWaitMs: Int32 = 500
    var backoff: Duration = .milliseconds(200)
    /// The retry while some partitions wait to be truncated (their leader does not know it leads them yet), for the
    /// first `quickRetries` tries.
    static let pendingRetry: Duration = .milliseconds(20)
    static let quickRetries = 10
    var logger = Logger(label: "ferry.replica-fetcher")

    /// Runs the fetchers until cancelled.
    func run() async {
        var fetchers: [Int32: Task<Void, Never>] = [:]
        var generation = -1
        while !Task.isCancelled {
            let leaders = Set(await self.followed().values.map(\.leader))
            for leader in fetchers.keys where !leaders.contains(leader) {
                fetchers.removeValue(forKey: leader)?.cancel()
                self.logger.info("stopped fetching from broker \(leader)")
            }
            for leader in leaders where fetchers[leader] == nil {
                self.logger.info("fetching from broker \(leader)")
                fetchers[leader] = Task { await self.fetch(from: leader) }
            }
            generation = await self.metadata.waitForChange(after: generation, timeout: .seconds(5))
        }
        for task in fetchers.values { task.cancel() }
    }

    /// The partitions this broker follows, with their live leader and its epoch.
    private func followed() async -> [TopicPartition: (leader: Int32, epoch: Int32)] {
        let brokers = await self.metadata.brokers
        var result: [TopicPartition: (leader: Int32, epoch: Int32)] = [:]
        for (name, topic) in await self.metadata.topics {
            for (partition, replicas) in topic.assignment.partitions where replicas.contains(self.brokerId) {
                guard let state = topic.states[partition], state.leader >= 0, state.leader != self.brokerId,
                      brokers[state.leader] != nil
                else { continue }
                result[TopicPartition(name, partition)] = (state.leader, state.leaderEpoch)
            }
        }
        return result
    }

    /// Fetches from one leader until cancelled (reconnecting after failures).
    private func fetch(from leader: Int32) async {
        var connection: BrokerConnection?
        var truncatedInEpoch: [TopicPartition: Int32] = [:]
        var pendingRounds = 0
        // A fetch waits at the leader up to `fetchMaxWaitMs` for data of the partitions it names. When this broker
        // must follow another partition of the same leader (a failover moved it there), or one in a new epoch,
        // that wait must not hold it back: acks=all produces to it wait for this follower. So a watcher closes the
        // connection on such a change, the fetch fails at once, and the loop starts over with the new set.
        // A partition that only leaves the set does not interrupt it: when a broker shuts down, the partitions it
        // leads move away one state write after another, and closing the connection for each would stall the
        // replication of those still led there (and the acks=all produces waiting for it).
        let interruptible = InterruptibleConnection<BrokerConnection>()
        let watcher = Task { await self.interruptOnChange(of: leader, interruptible) }
        defer { watcher.cancel() }
        while !Task.isCancelled {
            let partitions = await self.followed().filter { $0.value.leader == leader }.mapValues(\.epoch)
            guard !partitions.isEmpty else { break }
            do {
                if connection == nil || !connection!.isActive {
                    connection = try await self.connect(to: leader)
                }
                interruptible.use(connection, for: partitions)
                let stale = partitions.filter { truncatedInEpoch[$0.key] != $0.value }
                if !stale.isEmpty {
                    for (partition, epoch) in try await self.truncate(stale, via: connection!) { truncatedInEpoch[partition] = epoch }
                }
                let ready = partitions.filter { truncatedInEpoch[$0.key] == $0.value }
                // A partition the leader could not place yet (it has not heard that it leads it, which happens when
                // this broker learns of a failover first) is asked again every 20 ms for the first ten tries, then
                // after the backoff, rather than after a long poll: acks=all produces to it wait for this follower.
                pendingRounds = ready.count < partitions.count ? pendingRounds + 1 : 0
                let retry = pendingRounds == 0 || pendingRounds > Self.quickRetries ? self.backoff : Self.pendingRetry
                if !ready.isEmpty {
                    let maxWaitMs = pendingRounds == 0 ? self.fetchMaxWaitMs : Int32(min(retry.milliseconds, Int64(self.fetchMaxWaitMs)))
                    for partition in try await self.fetchOnce(ready, from: leader, maxWaitMs: maxWaitMs, via: connection!) {
                        truncatedInEpoch.removeValue(forKey: partition)
                    }
                } else {
                    try await Task.sleep(for: retry)
                }
            } catch is CancellationError {
                break
            } catch {
                await connection?.close()
                connection = nil
                if interruptible.takeInterruption() { continue }  // the followed set changed: fetch again at once
                self.logger.debug("fetch from broker \(leader) failed: \(error)")
                try? await Task.sleep(for: self.backoff)
            }
        }
        interruptible.use(nil, for: [:])
        await connection?.close()
    }

    /// Closes the connection `interruptible` holds whenever this broker follows a partition on `leader` that its
    /// current request does not name, or names in another leader epoch. Runs until cancelled.
    private func interruptOnChange(of leader: Int32, _ interruptible: InterruptibleConnection<BrokerConnection>) async {
        var generation = await self.metadata.generation
        while !Task.isCancelled {
            generation = await self.metadata.waitForChange(after: generation, timeout: .seconds(5))
            let now = await self.followed().filter { $0.value.leader == leader }.mapValues(\.epoch)
            if let stale = interruptible.interrupt(unless: now) { await stale.close() }
        }
    }

    private func connect(to leader: Int32) async throws -> BrokerConnection {
        guard let registration = await self.metadata.brokers[leader],
              let endpoint = registration.clientEndpoint
        else { throw BrokerConnectionError("broker \(leader) is not registered") }
        return try await BrokerConnection.connect(host: endpoint.host, port: Int(endpoint.port), clientId: "ferry-replica-\(self.brokerId)")
    }

    /// Truncates each partition to where its last leader epoch ends on the leader (Kafka's KIP-101/279 rule).
    /// - Returns: the partitions done, with the leader epoch they are now in line with.
    private func truncate(_ partitions: [TopicPartition: Int32], via connection: BrokerConnection) async throws -> [TopicPartition: Int32] {
        var done: [TopicPartition: Int32] = [:]
        var request = OffsetForLeaderEpochRequest(replicaId: self.brokerId)
        var asked: [TopicPartition: Int32] = [:]
        for (partition, epoch) in partitions {
            let latest = try await self.storage.withLog(partition, create: true) { $0.leaderEpochs.latestEpoch }!
            guard let latest else {
                done[partition] = epoch  // nothing written under any epoch: nothing to truncate
                continue
            }
            asked[partition] = epoch
            if let index = request.topics.firstIndex(where: { $0.topic == partition.topic }) {
                request.topics[index].partitions.append(.init(partition: partition.partition, currentLeaderEpoch: epoch, leaderEpoch: latest))
            } else {
                request.topics.append(.init(topic: partition.topic, partitions: [.init(partition: partition.partition, currentLeaderEpoch: epoch, leaderEpoch: latest)]))
            }
        }
        guard !asked.isEmpty else { return done }
        let response = try await connection.send(request, version: 3)
        for topic in response.topics {
            for answer in topic.partitions {
                let partition = TopicPartition(topic.topic, answer.partition)
                guard let epoch = asked[partition], answer.errorCode == 0 else { continue }
                if answer.endOffset >= 0 {
                    let truncatedTo = try await self.storage.withLog(partition, create: true) { log -> Int64? in
                        // Where the leader's answer epoch ends here, so a shorter history on our side is kept.
                        let ours = log.leaderEpochs.endOffset(for: answer.leaderEpoch, logEndOffset: log.logEndOffset).endOffset
                        let target = min(answer.endOffset, ours >= 0 ? ours : log.logEndOffset)
                        guard target < log.logEndOffset else { return nil }
                        try log.truncate(to: target)
                        return target
                    }!
                    if let truncatedTo { self.logger.notice("truncated \(partition) to offset \(truncatedTo) for leader epoch \(epoch)") }
                }
                done[partition] = epoch
            }
        }
        return done
    }

    /// One fetch of every ready partition, appending what comes back for the partitions still followed on `leader`
    /// in the epoch asked for (one that moved meanwhile, to this broker perhaps, must not get the old leader's data).
    /// - Returns: partitions that must be truncated again (their offset is out of the leader's range).
    private func fetchOnce(
        _ partitions: [TopicPartition: Int32], from leader: Int32, maxWaitMs: Int32, via connection: BrokerConnection
    ) async throws -> [TopicPartition] {
        var request = FetchRequest(replicaId: self.brokerId, maxWaitMs: maxWaitMs, minBytes: 1, maxBytes: 10 << 20)
        for (partition, epoch) in partitions.sorted(by: { $0.key < $1.key }) {
            let offset = try await self.storage.withLog(partition, create: true) { $0.logEndOffset }!
            let entry = FetchRequest.FetchTopic.FetchPartition(
                partition: partition.partition, currentLeaderEpoch: epoch, fetchOffset: offset, partitionMaxBytes: 1 << 20)
            if let index = request.topics.firstIndex(where: { $0.topic == partition.topic }) {
                request.topics[index].partitions.append(entry)
            } else {
                request.topics.append(.init(topic: partition.topic, partitions: [entry]))
            }
        }
        let response = try await connection.send(request, version: 11)
        let followed = await self.followed()
        var outOfRange: [TopicPartition] = []
        for topic in response.responses {
            for data in topic.partitions {
                let partition = TopicPartition(topic.topic, data.partitionIndex)
                guard let now = followed[partition], now.leader == leader, now.epoch == partitions[partition] else { continue }
                switch ErrorCode(rawValue: data.errorCode) {
                case .none:
                    let records = data.records ?? ByteBuffer()
                    let batches = records.readableBytes > 0 ? try RecordSet(records).batches() : []
                    let logEndOffset = try await self.storage.withLog(partition, create: true) { log in
                        for batch in batches where batch.lastOffset >= log.logEndOffset { try log.appendAsFollower(batch) }
                        return log.logEndOffset
                    }!
                    await self.replication.followerHighWatermark(partition, min(data.highWatermark, logEndOffset))
                case .offsetOutOfRange:
                    let start = data.logStartOffset
                    if start >= 0 {
                        let moved = try await self.storage.withLog(partition, create: true) { log -> Bool in
                            guard log.logEndOffset < start else { return false }
                            try log.truncateFullyAndStart(at: start)
                            return true
                        }!
                        if moved { self.logger.notice("\(partition) restarts at the leader's log start \(start)") }
                    }
                    outOfRange.append(partition)
                default:
                    break  // leadership moved: the metadata cache will tell
                }
            }
        }
        return outOfRange
    }
}

/// The connection a replica fetcher is using and the partitions (with epochs) its requests are for, shared with the
/// task that interrupts it when they change. (Generic only so that a test can hold something simpler.)
final class InterruptibleConnection<Connection: Sendable>: Sendable {
    private let state = Mutex<(connection: Connection?, partitions: [TopicPartition: Int32], interrupted: Bool)>((nil, [:], false))

    func use(_ connection: Connection?, for partitions: [TopicPartition: Int32]) {
        self.state.withLock { $0.connection = connection; $0.partitions = partitions }
    }

    /// - Returns: the connection to close, if `partitions` has one its request does not name in the same epoch.
    func interrupt(unless partitions: [TopicPartition: Int32]) -> Connection? {
        self.state.withLock { state in
            guard let connection = state.connection,
                  partitions.contains(where: { state.partitions[$0.key] != $0.value })
            else { return nil }
            state.connection = nil
            state.interrupted = true
            return connection
        }
    }

    /// Whether the last failure was an interruption (and forgets it).
    func takeInterruption() -> Bool {
        self.state.withLock { state in
            defer { state.interrupted = false }
            return state.interrupted
        }
    }
}

import Coordination
import KafkaModel
import KafkaRecords
import Logging
import LogStorage
import NIOCore

/// The partitions this broker hosts, as the request handlers and the replica fetchers see them: who leads what
/// (from the metadata cache), appends and reads through the storage actor, and replication as a leader does it in
/// Kafka: follower fetches record each follower's log end offset, the high watermark is the smallest log end
/// offset in the ISR (consumers read up to it, acks=all waits for it), a follower that has caught up joins the ISR
/// and one that falls behind `replica.lag.time.max.ms` leaves it (the leader writes the ISR, compare-and-set).
struct ReplicaManager: Sendable {
    let brokerId: Int32
    let metadata: MetadataCache
    let storage: LogService
    let notifier: AppendNotifier
    let replication: ReplicationState
    let stateWriter: PartitionStateWriter?
    var logger = Logger(label: "ferry.replicas")

    /// Whether this broker leads a partition.
    enum Leadership: Sendable {
        /// `topicConfig`: the topic's config overrides, for the settings the request path applies itself.
        case leader(epoch: Int32, isr: [Int32], topicConfig: [String: String])
        /// Not the leader here, with the error a client should see.
        case refused(ErrorCode)
    }

    func leadership(_ partition: TopicPartition) async -> Leadership {
        guard let topic = await self.metadata.topics[partition.topic],
              topic.assignment.partitions[partition.partition] != nil
        else { return .refused(.unknownTopicOrPartition) }
        guard let state = topic.states[partition.partition], state.leader == self.brokerId else {
            return .refused(.notLeaderOrFollower)
        }
        return .leader(epoch: state.leaderEpoch, isr: state.isr, topicConfig: topic.config)
    }

    /// A partition's leader as this broker's metadata has it, with the leader's client endpoint when it is live:
    /// what a NOT_LEADER_OR_FOLLOWER answer tells a KIP-951 client, so it can go there without asking for metadata.
    func currentLeader(_ partition: TopicPartition) async
        -> (id: Int32, epoch: Int32, endpoint: (host: String, port: Int32, rack: String?)?)?
    {
        guard let state = await self.metadata.topics[partition.topic]?.states[partition.partition], state.leader >= 0 else { return nil }
        let registration = await self.metadata.brokers[state.leader]
        return (state.leader, state.leaderEpoch, registration?.clientEndpoint.map { ($0.host, $0.port, registration?.rack) })
    }

    /// Appends a batch as leader. - Returns: the append info and the log start offset.
    func append(_ batch: RecordBatch, to partition: TopicPartition, leaderEpoch: Int32, isr: [Int32]) async throws -> (LogAppendInfo, Int64) {
        let (info, logStartOffset, logEndOffset) = try await self.storage.withLog(partition, create: true) { log in
            (try log.append(batch, leaderEpoch: leaderEpoch), log.logStartOffset, log.logEndOffset)
        }!
        await self.replication.leaderUpdate(
            partition, leaderEpoch: leaderEpoch, isr: isr, logEndOffset: logEndOffset, logStartOffset: logStartOffset, nowMs: wallClockMillis())
        await self.notifier.appended(to: partition)
        return (info, logStartOffset)
    }

    /// acks=all: waits until every ISR member has the records up to `lastOffset`, the leadership moves, or `timeout`.
    func waitForReplication(_ partition: TopicPartition, through lastOffset: Int64, timeout: Duration) async
        -> ReplicationState.ReplicationWait
    {
        await self.replication.waitForHighWatermark(partition, atLeast: lastOffset + 1, timeout: timeout)
    }

    struct ReadResult: Sendable {
        /// The batches read, as regions of the segment files.
        var slices: [LogReadSlice] = []
        var highWatermark: Int64
        var logStartOffset: Int64
        var error: ErrorCode = .none
    }

    /// Reads whole batches from `offset`: for a consumer up to the high watermark, for a follower (`replica`) up to
    /// the log end, recording the follower's position (which may move the high watermark and let it join the ISR).
    func read(
        _ partition: TopicPartition, from offset: Int64, maxBytes: Int, leaderEpoch: Int32, isr: [Int32], replica: Int32? = nil
    ) async -> ReadResult {
        do {
            let (logStartOffset, logEndOffset) = try await self.positions(partition)
            let now = wallClockMillis()
            if let replica {
                guard offset >= logStartOffset, offset <= logEndOffset else {
                    return ReadResult(highWatermark: -1, logStartOffset: logStartOffset, error: .offsetOutOfRange)
                }
                let joins = await self.replication.followerFetched(
                    partition, replica: replica, fetchOffset: offset, leaderEpoch: leaderEpoch, leaderLogEndOffset: logEndOffset,
                    logStartOffset: logStartOffset, nowMs: now)
                if joins && !isr.contains(replica) { await self.expandIsr(partition, adding: replica) }
            }
            let (highWatermark, advanced) = await self.replication.leaderUpdate(
                partition, leaderEpoch: leaderEpoch, isr: isr, logEndOffset: logEndOffset, logStartOffset: logStartOffset, nowMs: now)
            if advanced { await self.notifier.highWatermarkAdvanced(of: partition) }
            let slices = try await self.storage.withLog(partition) { log in
                try log.read(from: offset, maxBytes: maxBytes, maxOffset: replica == nil ? highWatermark : logEndOffset)
            } ?? []
            return ReadResult(slices: slices, highWatermark: highWatermark, logStartOffset: logStartOffset)
        } catch let error as LogStorageError where error.code == .offsetOutOfRange {
            return ReadResult(highWatermark: -1, logStartOffset: -1, error: .offsetOutOfRange)
        } catch {
            return ReadResult(highWatermark: -1, logStartOffset: -1, error: .kafkaStorageError)
        }
    }

    /// The high watermark of a led partition (computed now).
    func highWatermark(_ partition: TopicPartition, leaderEpoch: Int32, isr: [Int32]) async throws -> Int64 {
        let (logStartOffset, logEndOffset) = try await self.positions(partition)
        return await self.replication.leaderUpdate(
            partition, leaderEpoch: leaderEpoch, isr: isr, logEndOffset: logEndOffset, logStartOffset: logStartOffset,
            nowMs: wallClockMillis()
        ).highWatermark
    }

    /// ListOffsets v0: the old offset list, capped at the high watermark as Kafka caps it for consumers.
    func legacyOffsets(_ partition: TopicPartition, timestamp: Int64, maxCount: Int, leaderEpoch: Int32, isr: [Int32]) async throws -> [Int64] {
        let highWatermark = try await self.highWatermark(partition, leaderEpoch: leaderEpoch, isr: isr)
        return try await self.storage.withLog(partition) { log in
            let offsets = try log.legacyOffsets(before: timestamp, maxCount: maxCount)
            guard offsets.contains(where: { $0 > highWatermark }) else { return offsets }
            return Array(([highWatermark] + offsets.drop { $0 > highWatermark }).prefix(maxCount))
        } ?? [0]
    }

    /// ListOffsets: -1 the high watermark, -2 the log start, otherwise the first offset at or after `timestamp`.
    func offset(_ partition: TopicPartition, timestamp: Int64, leaderEpoch: Int32, isr: [Int32]) async throws -> (offset: Int64, timestamp: Int64) {
        if timestamp == -1 { return (try await self.highWatermark(partition, leaderEpoch: leaderEpoch, isr: isr), -1) }
        return try await self.storage.withLog(partition) { log in
            timestamp == -2 ? (log.logStartOffset, -1) : try log.offset(forTimestamp: timestamp) ?? (-1, -1)
        } ?? (timestamp == -2 ? (0, -1) : (-1, -1))
    }

    /// The log start and end offsets; a partition with no log here yet (nothing appended) is empty. Reads never
    /// create logs: a read racing a deletion (the topic, or this replica moved away) must not bring one back.
    private func positions(_ partition: TopicPartition) async throws -> (start: Int64, end: Int64) {
        try await self.storage.withLog(partition) { log in (log.logStartOffset, log.logEndOffset) } ?? (0, 0)
    }

    /// Follows a change of the metadata: leaderships lost end (waiting acks=all produces answer at once), a new
    /// leader's log exists before its first produce (Kafka's makeLeader creates it), and replicas no longer assigned
    /// here are deleted.
    func metadataChanged() async {
        let topics = await self.metadata.topics
        var leading = Set<TopicPartition>()
        for (name, topic) in topics {
            for (partition, state) in topic.states where state.leader == self.brokerId { leading.insert(TopicPartition(name, partition)) }
        }
        await self.replication.stopLeading(allBut: leading)
        let local = await self.storage.partitions()
        await self.createLogs(leading.subtracting(local))
        await self.deleteReplicasNoLongerAssigned(topics, local: local)
    }

    private func createLogs(_ partitions: Set<TopicPartition>) async {
        for partition in partitions.sorted() {
            do {
                _ = try await self.storage.withLog(partition, create: true) { _ in () }  // the storage logs the creation
            } catch {
                self.logger.error("could not create the log of \(partition): \(error)")
            }
        }
    }

    /// Deletes the local logs of partitions whose assignment no longer lists this broker (a finished
    /// reassignment moved them away; Kafka's StopReplica with delete). Partitions of topics not known are kept.
    private func deleteReplicasNoLongerAssigned(_ topics: [String: TopicMetadata], local: [TopicPartition]) async {
        for partition in local {
            guard let replicas = topics[partition.topic]?.assignment.partitions[partition.partition], !replicas.contains(self.brokerId)
            else { continue }
            do {
                try await self.storage.deleteLog(partition)
                self.logger.notice("deleted the log of \(partition): this broker is no longer one of its replicas \(replicas)")
            } catch {
                self.logger.error("could not delete the log of \(partition): \(error)")
            }
        }
    }

    // MARK: ISR changes (the leader's)

    /// Adds a caught-up follower to the ISR, only if the assignment still lists it; the write is fenced by the
    /// assignment's znode version too, since a finished reassignment rewrites assignment and state together and this
    /// broker may have seen the new state before the new assignment.
    private func expandIsr(_ partition: TopicPartition, adding replica: Int32) async {
        guard let topic = await self.metadata.topics[partition.topic],
              topic.assignment.partitions[partition.partition]?.contains(replica) == true
        else { return }
        await self.changeIsr(partition, assignmentVersion: topic.assignmentVersion) { isr in isr.contains(replica) ? nil : isr + [replica] }
    }

    /// Removes from the ISRs of the partitions led here the followers not caught up for `lagMs`.
    func shrinkIsrs(lagMs: Int64) async {
        var isrs: [TopicPartition: [Int32]] = [:]
        for (name, topic) in await self.metadata.topics {
            for (partition, state) in topic.states where state.leader == self.brokerId && state.isr.count > 1 {
                isrs[TopicPartition(name, partition)] = state.isr
            }
        }
        let lagging = await self.replication.laggingFollowers(isrs: isrs, lagMs: lagMs, nowMs: wallClockMillis())
        for (partition, replicas) in lagging.sorted(by: { $0.key < $1.key }) {
            await self.changeIsr(partition) { isr in
                let kept = isr.filter { !replicas.contains($0) }
                return kept == isr ? nil : kept
            }
        }
    }

    /// Writes a new ISR computed from the current one (nil: no change), if this broker still leads the partition.
    private func changeIsr(_ partition: TopicPartition, assignmentVersion: Int32? = nil, _ change: ([Int32]) -> [Int32]?) async {
        guard let writer = self.stateWriter, let topic = await self.metadata.topics[partition.topic],
              let state = topic.states[partition.partition], let version = topic.stateVersions[partition.partition],
              state.leader == self.brokerId, let isr = change(state.isr)
        else { return }
        do {
            if try await writer.updateIsr(partition, from: state, version: version, to: isr, assignmentVersion: assignmentVersion) {
                self.logger.notice("\(isr.count > state.isr.count ? "ISR expand" : "ISR shrink") for \(partition): \(state.isr) -> \(isr)")
                // A smaller ISR may let the high watermark move, which answers the acks=all produces waiting for
                // the followers that left (Kafka's maybeShrinkIsr then maybeIncrementLeaderHW).
                let (logStartOffset, logEndOffset) = try await self.positions(partition)
                let (_, advanced) = await self.replication.leaderUpdate(
                    partition, leaderEpoch: state.leaderEpoch, isr: isr, logEndOffset: logEndOffset, logStartOffset: logStartOffset,
                    nowMs: wallClockMillis())
                if advanced { await self.notifier.highWatermarkAdvanced(of: partition) }
            }
        } catch {
            self.logger.warning("could not write the ISR of \(partition): \(error)")
        }
    }
}

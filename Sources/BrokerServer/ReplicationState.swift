import KafkaModel

/// What a leader knows about its followers, per partition (Kafka's `Partition` replica state): each follower's
/// log end offset (the offset it last fetched from) and when it was last caught up; the high watermark, which is
/// the smallest log end offset in the ISR and never goes back; and the produce requests (acks=all) waiting for it.
/// As a follower, a broker keeps the high watermark its leader reported.
actor ReplicationState {
    private struct Follower {
        var logEndOffset: Int64?
        var lastCaughtUpMs: Int64
    }

    private struct Led {
        var leaderEpoch: Int32
        var highWatermark: Int64
        /// The ISR the high watermark was last computed with (the leader's own view: a shrink it wrote counts at
        /// once, before the metadata cache hears of it).
        var isr: [Int32] = []
        var followers: [Int32: Follower]
        /// When this broker became leader in this epoch: a follower never heard from counts as caught up then.
        var sinceMs: Int64
    }

    private let brokerId: Int32
    private var led: [TopicPartition: Led] = [:]
    /// High watermarks reported by leaders (followed partitions), or loaded from the checkpoint at start.
    private var knownHighWatermarks: [TopicPartition: Int64]
    private var waiters: [TopicPartition: [(offset: Int64, wakeUp: WakeUp)]] = [:]

    init(brokerId: Int32, checkpointedHighWatermarks: [TopicPartition: Int64]) {
        self.brokerId = brokerId
        self.knownHighWatermarks = checkpointedHighWatermarks
    }

    /// The partition's entry as leader in `leaderEpoch`; a new epoch starts with unknown followers (given the lag
    /// time to show up) and the last known high watermark.
    private func entry(_ partition: TopicPartition, leaderEpoch: Int32, logStartOffset: Int64, nowMs: Int64) -> Led {
        if let entry = self.led[partition], entry.leaderEpoch == leaderEpoch { return entry }
        let previous = self.led[partition]?.highWatermark ?? self.knownHighWatermarks[partition] ?? logStartOffset
        return Led(leaderEpoch: leaderEpoch, highWatermark: max(previous, logStartOffset), followers: [:], sinceMs: nowMs)
    }

    /// Recomputes the high watermark of a partition this broker leads, with its log end offset and ISR now.
    /// - Returns: the high watermark, and whether it advanced.
    @discardableResult
    func leaderUpdate(
        _ partition: TopicPartition, leaderEpoch: Int32, isr: [Int32], logEndOffset: Int64, logStartOffset: Int64, nowMs: Int64
    ) -> (highWatermark: Int64, advanced: Bool) {
        var entry = self.entry(partition, leaderEpoch: leaderEpoch, logStartOffset: logStartOffset, nowMs: nowMs)
        var candidate = logEndOffset
        for member in isr where member != self.brokerId {
            // A follower not heard from in this epoch holds the high watermark where it is.
            candidate = min(candidate, entry.followers[member]?.logEndOffset ?? entry.highWatermark)
        }
        let advanced = candidate > entry.highWatermark
        if advanced { entry.highWatermark = min(candidate, logEndOffset) }
        entry.isr = isr
        self.led[partition] = entry
        if advanced { self.wake(partition, upTo: entry.highWatermark) }
        return (entry.highWatermark, advanced)
    }

    /// Records a follower's fetch from `fetchOffset` (its log end offset). - Returns: whether it is caught up
    /// enough to join the ISR (it has everything up to the high watermark).
    func followerFetched(
        _ partition: TopicPartition, replica: Int32, fetchOffset: Int64, leaderEpoch: Int32, leaderLogEndOffset: Int64,
        logStartOffset: Int64, nowMs: Int64
    ) -> Bool {
        var entry = self.entry(partition, leaderEpoch: leaderEpoch, logStartOffset: logStartOffset, nowMs: nowMs)
        var follower = entry.followers[replica] ?? Follower(logEndOffset: nil, lastCaughtUpMs: entry.sinceMs)
        follower.logEndOffset = fetchOffset
        if fetchOffset >= leaderLogEndOffset { follower.lastCaughtUpMs = nowMs }
        entry.followers[replica] = follower
        self.led[partition] = entry
        return fetchOffset >= entry.highWatermark
    }

    /// The ISR members (other than the leader) that have not been caught up for `lagMs` (Kafka's
    /// `replica.lag.time.max.ms`), by partition.
    func laggingFollowers(isrs: [TopicPartition: [Int32]], lagMs: Int64, nowMs: Int64) -> [TopicPartition: [Int32]] {
        var result: [TopicPartition: [Int32]] = [:]
        for (partition, isr) in isrs {
            guard let entry = self.led[partition] else { continue }
            let lagging = isr.filter { member in
                member != self.brokerId && nowMs - (entry.followers[member]?.lastCaughtUpMs ?? entry.sinceMs) > lagMs
            }
            if !lagging.isEmpty { result[partition] = lagging }
        }
        return result
    }

    /// The high watermark of a led partition (nil if unknown here).
    func highWatermark(_ partition: TopicPartition) -> Int64? { self.led[partition]?.highWatermark }

    /// As follower: the leader's high watermark, capped at this replica's log end.
    func followerHighWatermark(_ partition: TopicPartition, _ highWatermark: Int64) {
        self.knownHighWatermarks[partition] = highWatermark
        self.led.removeValue(forKey: partition)
    }

    /// Every high watermark known here, for `replication-offset-checkpoint`.
    func allHighWatermarks() -> [TopicPartition: Int64] {
        self.knownHighWatermarks.merging(self.led.mapValues(\.highWatermark)) { _, led in led }
    }

    func forget(topic: String) {
        self.led = self.led.filter { $0.key.topic != topic }
        self.knownHighWatermarks = self.knownHighWatermarks.filter { $0.key.topic != topic }
    }

    /// How an acks=all wait ended (Kafka's `Partition.checkEnoughReplicasReachOffset`).
    enum ReplicationWait: Equatable, Sendable {
        /// The high watermark passed the offset; `isrSize` is the ISR it was computed with.
        case replicated(isrSize: Int)
        case timedOut
        /// This broker stopped leading the partition while the produce waited.
        case notLeader
    }

    /// Waits until the high watermark reaches `offset`, the leadership goes elsewhere, or `timeout` passes.
    func waitForHighWatermark(_ partition: TopicPartition, atLeast offset: Int64, timeout: Duration) async -> ReplicationWait {
        if let entry = self.led[partition], entry.highWatermark >= offset { return .replicated(isrSize: entry.isr.count) }
        let wakeUp = WakeUp()
        self.waiters[partition, default: []].append((offset, wakeUp))
        await wakeUp.wait(until: .now + timeout)
        self.waiters[partition]?.removeAll { $0.wakeUp === wakeUp }
        guard let entry = self.led[partition] else { return .notLeader }
        return entry.highWatermark >= offset ? .replicated(isrSize: entry.isr.count) : .timedOut
    }

    /// Stops leading the partitions not in `leading` (the metadata now names another leader, or none): their
    /// high watermarks are kept as known and the acks=all produces waiting on them wake to answer
    /// NOT_LEADER_OR_FOLLOWER at once, as Kafka completes its delayed produces when a partition becomes follower.
    func stopLeading(allBut leading: Set<TopicPartition>) {
        for (partition, entry) in self.led where !leading.contains(partition) {
            self.knownHighWatermarks[partition] = entry.highWatermark
            self.led.removeValue(forKey: partition)
            for waiter in self.waiters[partition] ?? [] { waiter.wakeUp.fire() }
        }
    }

    private func wake(_ partition: TopicPartition, upTo highWatermark: Int64) {
        for waiter in self.waiters[partition] ?? [] where waiter.offset <= highWatermark { waiter.wakeUp.fire() }
    }

    /// Whether a produce waits on the partition (for tests that must act only once a wait has begun).
    func hasWaiters(_ partition: TopicPartition) -> Bool { !(self.waiters[partition] ?? []).isEmpty }

    /// Wakes every waiting produce (shutdown): they answer with what holds now.
    func wakeAll() {
        for waiters in self.waiters.values { for waiter in waiters { waiter.wakeUp.fire() } }
    }
}

import KafkaModel

/// Wakes fetches that wait for data (Fetch long polling: `min_bytes` not reached, `max_wait_ms` not passed)
/// when a partition they read gets an append, and consumer fetches also when its high watermark advances.
///
/// Follower fetches are not woken by the high watermark, as in Kafka (a follower's DelayedFetch counts bytes up to
/// the log end, which a high watermark move does not change): the follower whose fetch moved the high watermark
/// would otherwise get an empty answer at once, fetch again, and wake the other followers into doing the same, a
/// round of empty fetches for every append. Followers learn the new high watermark with their next answer.
///
/// A fetch takes a `Mark` before it reads and waits "since" it: a wake-up that lands between the read and the
/// wait has already moved the partition's count, so the wait returns at once instead of missing the wake-up and
/// sleeping out `max_wait_ms` (which held acks=all produces for a follower's whole long poll).
actor AppendNotifier {
    /// Wake-up counts of some partitions at one moment, for a consumer or a follower.
    struct Mark: Sendable {
        fileprivate var counts: [TopicPartition: Int]
        fileprivate var highWatermarkToo: Bool
    }

    private var waiters: [Int: (partitions: Set<TopicPartition>, highWatermarkToo: Bool, wakeUp: WakeUp)] = [:]
    private var appends: [TopicPartition: Int] = [:]
    private var highWatermarkAdvances: [TopicPartition: Int] = [:]
    private var nextID = 0
    private var shuttingDown = false

    /// - Parameter highWatermarkToo: a consumer's fetch, which an advance of the high watermark wakes as well.
    func mark(_ partitions: Set<TopicPartition>, highWatermarkToo: Bool) -> Mark {
        Mark(counts: Dictionary(uniqueKeysWithValues: partitions.map { ($0, self.count($0, highWatermarkToo: highWatermarkToo)) }),
             highWatermarkToo: highWatermarkToo)
    }

    private func count(_ partition: TopicPartition, highWatermarkToo: Bool) -> Int {
        self.appends[partition, default: 0] &+ (highWatermarkToo ? self.highWatermarkAdvances[partition, default: 0] : 0)
    }

    /// Returns after a wake-up of one of the partitions of `mark` since it was taken, or after `timeout`.
    func wait(since mark: Mark, timeout: Duration) async {
        guard !self.shuttingDown,
              mark.counts.allSatisfy({ self.count($0.key, highWatermarkToo: mark.highWatermarkToo) == $0.value })
        else { return }
        let id = self.nextID
        self.nextID += 1
        let wakeUp = WakeUp()
        self.waiters[id] = (Set(mark.counts.keys), mark.highWatermarkToo, wakeUp)
        await wakeUp.wait(until: .now + timeout)
        self.waiters.removeValue(forKey: id)
    }

    /// How many fetches wait (for tests that must act only once a wait has begun).
    var waiterCount: Int { self.waiters.count }

    /// Wakes every waiting fetch, now and from now on, so a shutting-down broker answers them at once.
    func wakeAllForShutdown() {
        self.shuttingDown = true
        for waiter in self.waiters.values { waiter.wakeUp.fire() }
    }

    /// Called after an append to `partition`: wakes every fetch waiting on it.
    func appended(to partition: TopicPartition) {
        self.appends[partition, default: 0] &+= 1
        for waiter in self.waiters.values where waiter.partitions.contains(partition) { waiter.wakeUp.fire() }
    }

    /// Called after the high watermark of `partition` advanced: wakes the consumer fetches waiting on it.
    func highWatermarkAdvanced(of partition: TopicPartition) {
        self.highWatermarkAdvances[partition, default: 0] &+= 1
        for waiter in self.waiters.values where waiter.highWatermarkToo && waiter.partitions.contains(partition) { waiter.wakeUp.fire() }
    }
}

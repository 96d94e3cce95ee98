import KafkaModel

/// Wakes fetches that wait for data (Fetch long polling: `min_bytes` not reached, `max_wait_ms` not passed)
/// when a partition they read gets an append (or, for consumers, a higher high watermark).
///
/// A fetch takes a `Mark` before it reads and waits "since" it: an append that lands between the read and the
/// wait has already moved the partition's count, so the wait returns at once instead of missing the wake-up and
/// sleeping out `max_wait_ms` (which held acks=all produces for a follower's whole long poll).
actor AppendNotifier {
    /// Append counts of some partitions at one moment.
    struct Mark: Sendable {
        fileprivate var counts: [TopicPartition: Int]
    }

    private var waiters: [Int: (partitions: Set<TopicPartition>, wakeUp: WakeUp)] = [:]
    private var appends: [TopicPartition: Int] = [:]
    private var nextID = 0
    private var shuttingDown = false

    func mark(_ partitions: Set<TopicPartition>) -> Mark {
        Mark(counts: Dictionary(uniqueKeysWithValues: partitions.map { ($0, self.appends[$0, default: 0]) }))
    }

    /// Returns after an append to one of the partitions of `mark` since it was taken, or after `timeout`.
    func wait(since mark: Mark, timeout: Duration) async {
        guard !self.shuttingDown, mark.counts.allSatisfy({ self.appends[$0.key, default: 0] == $0.value }) else { return }
        let id = self.nextID
        self.nextID += 1
        let wakeUp = WakeUp()
        self.waiters[id] = (Set(mark.counts.keys), wakeUp)
        await wakeUp.wait(until: .now + timeout)
        self.waiters.removeValue(forKey: id)
    }

    /// Wakes every waiting fetch, now and from now on, so a shutting-down broker answers them at once.
    func wakeAllForShutdown() {
        self.shuttingDown = true
        for waiter in self.waiters.values { waiter.wakeUp.fire() }
    }

    /// Called after an append to `partition` (or an advance of its high watermark).
    func appended(to partition: TopicPartition) {
        self.appends[partition, default: 0] &+= 1
        for waiter in self.waiters.values where waiter.partitions.contains(partition) { waiter.wakeUp.fire() }
    }
}

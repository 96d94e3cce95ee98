import KafkaModel

/// Wakes fetches that wait for data (Fetch long polling: `min_bytes` not reached, `max_wait_ms` not passed)
/// when a partition they read gets an append.
actor AppendNotifier {
    private var waiters: [Int: (partitions: Set<TopicPartition>, wakeUp: WakeUp)] = [:]
    private var nextID = 0
    private var shuttingDown = false

    /// Returns after an append to one of `partitions`, or after `timeout`, whichever comes first.
    func wait(for partitions: Set<TopicPartition>, timeout: Duration) async {
        guard !self.shuttingDown else { return }
        let id = self.nextID
        self.nextID += 1
        let wakeUp = WakeUp()
        self.waiters[id] = (partitions, wakeUp)
        await wakeUp.wait(until: .now + timeout)
        self.waiters.removeValue(forKey: id)
    }

    /// Wakes every waiting fetch, now and from now on, so a shutting-down broker answers them at once.
    func wakeAllForShutdown() {
        self.shuttingDown = true
        for waiter in self.waiters.values { waiter.wakeUp.fire() }
    }

    /// Called after an append to `partition`.
    func appended(to partition: TopicPartition) {
        for waiter in self.waiters.values where waiter.partitions.contains(partition) { waiter.wakeUp.fire() }
    }
}

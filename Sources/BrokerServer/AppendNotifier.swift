import KafkaModel
import Synchronization

/// Wakes fetches that wait for data (Fetch long polling: `min_bytes` not reached, `max_wait_ms` not passed)
/// when a partition they read gets an append.
actor AppendNotifier {
    private var waiters: [Int: (partitions: Set<TopicPartition>, wakeUp: WakeUp)] = [:]
    private var nextID = 0

    /// Returns after an append to one of `partitions`, or after `timeout`, whichever comes first.
    func wait(for partitions: Set<TopicPartition>, timeout: Duration) async {
        let id = self.nextID
        self.nextID += 1
        let wakeUp = WakeUp()
        self.waiters[id] = (partitions, wakeUp)
        let timer = Task {
            try? await Task.sleep(for: timeout)
            wakeUp.fire()
        }
        await wakeUp.wait()
        timer.cancel()
        self.waiters.removeValue(forKey: id)
    }

    /// Called after an append to `partition`.
    func appended(to partition: TopicPartition) {
        for waiter in self.waiters.values where waiter.partitions.contains(partition) { waiter.wakeUp.fire() }
    }
}

/// A one-time wake-up: `wait()` returns once `fire()` has been called, before or after it started waiting.
final class WakeUp: Sendable {
    private let state = Mutex<(fired: Bool, continuation: CheckedContinuation<Void, Never>?)>((false, nil))

    func fire() {
        let continuation: CheckedContinuation<Void, Never>? = self.state.withLock { state in
            state.fired = true
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume()
    }

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let firedAlready = self.state.withLock { state in
                if state.fired { return true }
                state.continuation = continuation
                return false
            }
            if firedAlready { continuation.resume() }
        }
    }
}

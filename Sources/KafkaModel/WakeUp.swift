import Synchronization

/// A one-time wake-up: `wait()` returns once `fire()` has been called, before or after it started waiting.
public final class WakeUp: Sendable {
    private let state = Mutex<(fired: Bool, continuation: CheckedContinuation<Void, Never>?)>((false, nil))

    public init() {}

    public func fire() {
        let continuation: CheckedContinuation<Void, Never>? = self.state.withLock { state in
            state.fired = true
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume()
    }

    public func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let firedAlready = self.state.withLock { state in
                if state.fired { return true }
                state.continuation = continuation
                return false
            }
            if firedAlready { continuation.resume() }
        }
    }

    /// Waits for `fire()` or until `deadline`, whichever comes first; a cancelled task stops waiting at once.
    public func wait(until deadline: ContinuousClock.Instant) async {
        let timer = Task {
            try? await Task.sleep(until: deadline)
            self.fire()
        }
        await withTaskCancellationHandler {
            await self.wait()
        } onCancel: {
            self.fire()
        }
        timer.cancel()
    }
}

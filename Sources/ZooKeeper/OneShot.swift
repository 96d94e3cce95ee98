import Synchronization

/// A result set once, from any thread, and awaited by any number of tasks.
///
/// This is the only way a C callback hands a value to Swift code: `complete` takes a lock, records the result
/// and resumes every waiting continuation outside the lock. A second `complete` is ignored and returns `false`,
/// so no continuation can ever be resumed twice. A waiting task that is cancelled stops waiting with
/// `CancellationError`; the result, when it comes, is kept for later waiters.
final class OneShot<Value: Sendable>: Sendable {
    private struct Waiters {
        var nextID: UInt64 = 0
        var continuations: [UInt64: CheckedContinuation<Value, any Error>] = [:]
    }

    private enum State {
        case pending(Waiters)
        case done(Result<Value, any Error>)
    }

    private let state = Mutex<State>(.pending(Waiters()))

    init() {}

    /// Records `result` and wakes every waiter.
    /// - Returns: `false` if a result was already recorded (this one is dropped).
    @discardableResult
    func complete(_ result: Result<Value, any Error>) -> Bool {
        let waiting: [CheckedContinuation<Value, any Error>]? = self.state.withLock { state in
            guard case .pending(let waiters) = state else { return nil }
            state = .done(result)
            return Array(waiters.continuations.values)
        }
        guard let waiting else { return false }
        for continuation in waiting { continuation.resume(with: result) }
        return true
    }

    /// The result once recorded, if it has been.
    var result: Result<Value, any Error>? {
        self.state.withLock { state in
            if case .done(let result) = state { return result }
            return nil
        }
    }

    /// Waits for the result.
    /// - Throws: the recorded error, or `CancellationError` if the calling task is cancelled first.
    func value() async throws -> Value {
        let id: UInt64? = self.state.withLock { state in
            guard case .pending(var waiters) = state else { return nil }
            defer { waiters.nextID += 1; state = .pending(waiters) }
            return waiters.nextID
        }
        guard let id else { return try self.result!.get() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, any Error>) in
                let resumeNow: Result<Value, any Error>? = self.state.withLock { state in
                    switch state {
                    case .done(let result):
                        return result
                    case .pending(var waiters):
                        // The cancellation handler may have run before we got here; it found nothing to remove.
                        if Task.isCancelled { return .failure(CancellationError()) }
                        waiters.continuations[id] = continuation
                        state = .pending(waiters)
                        return nil
                    }
                }
                if let resumeNow { continuation.resume(with: resumeNow) }
            }
        } onCancel: {
            let cancelled: CheckedContinuation<Value, any Error>? = self.state.withLock { state in
                guard case .pending(var waiters) = state else { return nil }
                let continuation = waiters.continuations.removeValue(forKey: id)
                state = .pending(waiters)
                return continuation
            }
            cancelled?.resume(throwing: CancellationError())
        }
    }
}

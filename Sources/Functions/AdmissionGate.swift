import Synchronization

/// Bounds concurrent work: at most `limit` holders; up to `queueLimit` more wait in FIFO
/// order; past that `acquire` fails at once with `overloaded` (HTTP 429 + Retry-After).
///
/// Every decision and the state change it implies happen in one critical section: a caller
/// that finds no free slot decides to queue and enqueues itself under the same lock, so a
/// release can never fall between the two and leave a waiter asleep beside a free slot.
package final class AdmissionGate: Sendable {
    private struct State {
        var active = 0
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
        var nextID: UInt64 = 0
    }

    private enum Decision { case granted, queued, rejected }

    package let limit: Int
    package let queueLimit: Int
    private let label: String
    private let state = Mutex(State())
    /// A test seam: runs after the lock-free fast path found no free slot and before the
    /// decision to queue is taken, where a concurrent release can land.
    private let beforeQueueing: (@Sendable () -> Void)?

    package init(limit: Int, queueLimit: Int, label: String, beforeQueueing: (@Sendable () -> Void)? = nil) {
        self.limit = max(1, limit)
        self.queueLimit = max(0, queueLimit)
        self.label = label
        self.beforeQueueing = beforeQueueing
    }

    /// Requests running now.
    package var active: Int { state.withLock { $0.active } }
    /// Requests waiting for a slot.
    package var queued: Int { state.withLock { $0.waiters.count } }

    /// Takes a slot, waiting in the queue if needed. Cancellation leaves the queue.
    package func acquire() async throws {
        if state.withLock({ s in grantIfFree(&s) }) { return }
        beforeQueueing?()
        let id = state.withLock { s -> UInt64 in
            s.nextID += 1
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let decision = state.withLock { s -> Decision in
                    if grantIfFree(&s) { return .granted }
                    if Task.isCancelled || s.waiters.count >= queueLimit { return .rejected }
                    s.waiters.append((id, continuation))
                    return .queued
                }
                switch decision {
                case .granted: continuation.resume()
                case .queued: break
                case .rejected: continuation.resume(throwing: Task.isCancelled ? CancellationError() : overloaded())
                }
            }
        } onCancel: {
            let waiter = state.withLock { s -> CheckedContinuation<Void, any Error>? in
                guard let i = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return s.waiters.remove(at: i).continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// Gives a slot back, handing it to the oldest waiter if there is one.
    package func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, any Error>? in
            if !s.waiters.isEmpty {
                return s.waiters.removeFirst().continuation  // the slot passes on; active unchanged
            }
            s.active = max(0, s.active - 1)
            return nil
        }
        next?.resume()
    }

    /// Takes a slot when one is free and nobody waits (FIFO: waiters go first).
    private func grantIfFree(_ s: inout State) -> Bool {
        guard s.active < limit && s.waiters.isEmpty else { return false }
        s.active += 1
        return true
    }

    private func overloaded() -> FunctionError {
        FunctionError(
            .overloaded, "\(label) is at its concurrency limit (\(limit) running, \(queueLimit) queued)", retryAfter: 1)
    }
}

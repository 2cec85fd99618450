import Synchronization

/// Bounds concurrent work: at most `limit` holders; up to `queueLimit` more wait in FIFO
/// order; past that `acquire` fails at once with `overloaded` (HTTP 429 + Retry-After).
package final class AdmissionGate: Sendable {
    private struct State {
        var active = 0
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
        var nextID: UInt64 = 0
    }

    package let limit: Int
    package let queueLimit: Int
    private let label: String
    private let state = Mutex(State())

    package init(limit: Int, queueLimit: Int, label: String) {
        self.limit = max(1, limit)
        self.queueLimit = max(0, queueLimit)
        self.label = label
    }

    /// Requests running now.
    package var active: Int { state.withLock { $0.active } }
    /// Requests waiting for a slot.
    package var queued: Int { state.withLock { $0.waiters.count } }

    /// Takes a slot, waiting in the queue if needed. Cancellation leaves the queue.
    package func acquire() async throws {
        enum Decision { case granted, queue(UInt64), reject }
        let decision: Decision = state.withLock { s in
            if s.active < limit && s.waiters.isEmpty {
                s.active += 1
                return .granted
            }
            if s.waiters.count >= queueLimit { return .reject }
            s.nextID += 1
            return .queue(s.nextID)
        }
        switch decision {
        case .granted:
            return
        case .reject:
            throw FunctionError(
                .overloaded, "\(label) is at its concurrency limit (\(limit) running, \(queueLimit) queued)",
                retryAfter: 1)
        case .queue(let id):
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    let cancelled = state.withLock { s -> Bool in
                        if Task.isCancelled { return true }
                        s.waiters.append((id, continuation))
                        return false
                    }
                    if cancelled { continuation.resume(throwing: CancellationError()) }
                }
            } onCancel: {
                let waiter = state.withLock { s -> CheckedContinuation<Void, any Error>? in
                    guard let i = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                    return s.waiters.remove(at: i).continuation
                }
                waiter?.resume(throwing: CancellationError())
            }
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
}

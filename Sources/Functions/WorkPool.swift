import Dispatch
import NIOPosix
import Synchronization

/// A bounded pool of threads for blocking and CPU-heavy work (inference, model loads), so
/// none of it runs on an event loop. Wraps `NIOThreadPool`.
package final class WorkPool: Sendable {
    private let pool: NIOThreadPool
    package let threads: Int

    package init(threads: Int) {
        self.threads = max(1, threads)
        self.pool = NIOThreadPool(numberOfThreads: self.threads)
        pool.start()
    }

    /// Runs `work` on a pool thread and returns its result. If `timeout` passes first, throws
    /// `FunctionError.timeout` at once; the work still runs to its end on its thread, and
    /// `completion` (which releases whatever the work holds) runs only then.
    package func run<T: Sendable>(
        timeout: Duration? = nil,
        _ work: @escaping @Sendable () throws -> T,
        completion: @escaping @Sendable () -> Void = {}
    ) async throws -> T {
        let once = OnceContinuation<T>()
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            once.install(continuation)
            let timer = timeout.map { timeout in
                DeadlineTimer(after: timeout) {
                    once.resume(with: .failure(FunctionError(.timeout, "request deadline of \(timeout) passed")))
                }
            }
            pool.submit { state in
                let result: Result<T, any Error>
                if state == .active {
                    result = Result { try work() }
                } else {
                    result = .failure(FunctionError(.unavailable, "the server is shutting down", retryAfter: 1))
                }
                timer?.cancel()
                completion()
                once.resume(with: result)
            }
        }
    }

    /// Stops the threads after the queued work has run.
    package func shutdown() async {
        try? await pool.shutdownGracefully()
    }
}

/// Resumes a continuation exactly once, from whichever side gets there first.
final class OnceContinuation<T: Sendable>: Sendable {
    private let state = Mutex<(CheckedContinuation<T, any Error>?, Result<T, any Error>?, Bool)>((nil, nil, false))

    func install(_ continuation: CheckedContinuation<T, any Error>) {
        let pending: Result<T, any Error>? = state.withLock { s in
            if s.2 { return nil }
            if let r = s.1 {
                s.2 = true
                return r
            }
            s.0 = continuation
            return nil
        }
        if let pending { continuation.resume(with: pending) }
    }

    func resume(with result: Result<T, any Error>) {
        let continuation: CheckedContinuation<T, any Error>? = state.withLock { s in
            if s.2 { return nil }
            if let c = s.0 {
                s.2 = true
                s.0 = nil
                return c
            }
            if s.1 == nil { s.1 = result }
            return nil
        }
        continuation?.resume(with: result)
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    package var seconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }

    /// The duration in milliseconds, as a Double.
    package var milliseconds: Double { seconds * 1000 }
}

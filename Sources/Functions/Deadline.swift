import Common
import Dispatch

/// Runs async work against a deadline: past it the caller gets `FunctionError.timeout` at
/// once and the work is cancelled (work already on a pool thread finishes there and then
/// frees what it holds).
package enum Deadline {
    package static func run<T: Sendable>(
        _ timeout: Duration, _ operation: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let once = OnceContinuation<T>()
        // Not fire-and-forget: its result resumes `once`, and the deadline cancels it.
        let task = Task {
            do {
                once.resume(with: .success(try await operation()))
            } catch {
                once.resume(with: .failure(error))
            }
        }
        let timer = DeadlineTimer(after: timeout) {
            once.resume(
                with: .failure(
                    FunctionError(
                        .timeout, "the request took longer than its deadline of \(timeout.seconds.fixed(3)) s")))
            task.cancel()
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { once.install($0) }
        } onCancel: {
            task.cancel()
        }
    }
}

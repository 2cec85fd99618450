import Logging
import Synchronization

/// Runs trigger firings one at a time, off the request path. `submit` is cheap and never
/// blocks (call it from the observer's `onFire`); `run()` is the long-running loop: add the
/// dispatcher to the service group (`extension RetrainDispatcher: Service {}` in the
/// runtime; its `run()` already has the right signature). A firing submitted while one is
/// pending is dropped (the observer's cooldown makes that rare).
package final class RetrainDispatcher: Sendable {
    package struct Status: Sendable, Equatable {
        package var submitted = 0
        package var dropped = 0
        package var completed = 0
        package var failed = 0
        package var running = false
        package var lastOutcome: String?
    }

    package let trigger: any RetrainTrigger
    private let logger: Logger
    private let stream: AsyncStream<RetrainEvent>
    private let continuation: AsyncStream<RetrainEvent>.Continuation
    private let state = Mutex((status: Status(), pending: false))

    package init(trigger: any RetrainTrigger, logger: Logger = Logger(label: "mscr.retrain")) {
        self.trigger = trigger
        self.logger = logger
        (stream, continuation) = AsyncStream.makeStream(of: RetrainEvent.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Queues a firing; false when one is already waiting (dropped).
    @discardableResult
    package func submit(_ event: RetrainEvent) -> Bool {
        let accepted = state.withLock { s -> Bool in
            s.status.submitted += 1
            if s.pending {
                s.status.dropped += 1
                return false
            }
            s.pending = true
            return true
        }
        if accepted { continuation.yield(event) }
        return accepted
    }

    /// Counters for `/metrics`.
    package var status: Status { state.withLock { $0.status } }

    /// Ends `run()` after the firing in progress (if any).
    package func finish() { continuation.finish() }

    /// Handles firings until `finish()` or cancellation.
    package func run() async throws {
        for await event in stream {
            state.withLock { s in
                s.pending = false
                s.status.running = true
            }
            logger.info(
                "retrain trigger fired",
                metadata: [
                    "function": "\(event.function)", "model": "\(event.model)", "version": "\(event.version)",
                    "rolling_rmse": "\(event.rollingRMSE)", "threshold": "\(event.threshold)",
                    "trigger": "\(trigger.description)",
                ])
            do {
                let outcome = try await trigger.fire(event)
                state.withLock { s in
                    s.status.completed += 1
                    s.status.lastOutcome = outcome
                }
                logger.info("retrain trigger done", metadata: ["outcome": "\(outcome)"])
            } catch {
                state.withLock { s in
                    s.status.failed += 1
                    s.status.lastOutcome = "failed: \(error)"
                }
                logger.error("retrain trigger failed", metadata: ["error": "\(error)"])
            }
            state.withLock { $0.status.running = false }
        }
    }
}

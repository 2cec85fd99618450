import Inference
import Tracing

/// Knobs of the function host (environment names in parentheses).
package struct FunctionHostSettings: Sendable {
    /// Requests running at once in this instance (`MSCR_CONCURRENCY`), like Cloud Run's
    /// `containerConcurrency`.
    package var concurrency = 80
    /// Requests that may wait for a slot, per gate (`MSCR_QUEUE_DEPTH`); past it, 429.
    package var queueDepth = 64
    /// Deadline of one request (`MSCR_REQUEST_TIMEOUT`), queueing and cold start included.
    package var requestTimeout: Duration = .seconds(60)
    /// Threads that run inference (`MSCR_WORKERS`).
    package var workers = 2
    /// Threads that run model loads.
    package var loaders = 2
    /// First backoff after a failed load, doubled per consecutive failure.
    package var retryBaseSeconds = 1.0
    /// Bytes the loaded models may use (`MSCR_MEMORY_LIMIT`); nil: no budget.
    package var memoryLimit: Int?
    /// The tracer the host's spans start on: the runtime passes the one it bootstrapped, so a
    /// span does not look it up in `InstrumentationSystem` (a lock and a dynamic cast) each time.
    package var tracer: any Tracer = NoOpTracer()
    /// The engine threads (`MSCR_THREADS` of them) that loads and inferences run on; the host
    /// stops them at shutdown.
    package var compute = ComputePool(threads: 1)

    package init() {}
}

import Logging
import NIOConcurrencyHelpers
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The batch span processor (OpenTelemetry's `BatchSpanProcessor`) as a `Service`: ended
/// sampled spans wait in a bounded queue (`OTEL_BSP_MAX_QUEUE_SIZE`; a span that finds it full
/// is dropped and counted), and a dedicated thread exports them every `OTEL_BSP_SCHEDULE_DELAY`
/// or as soon as `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` are waiting, in batches of at most that size.
/// The export (a blocking libcurl POST) runs on that thread, never on a Swift-concurrency
/// thread. On graceful shutdown everything left is exported within `OTEL_BSP_EXPORT_TIMEOUT`,
/// then `run()` returns.
package final class OTLPBatchProcessor: Service, Sendable {
    private struct Queue {
        /// Ended spans, each encoded (`OTLPEncoder.span`).
        var spans: [[UInt8]] = []
        var dropped = 0
        /// Set when shutting down: export what is left before this instant, then stop.
        var stopBy: ContinuousClock.Instant?
    }

    private let queue = Mutex(Queue())
    /// 1 when the export thread should wake before its schedule.
    private let wakeup = ConditionLock(value: 0)
    private let maxQueueSize: Int
    private let maxExportBatchSize: Int
    private let scheduleDelay: Duration
    private let shutdownTimeout: Duration
    private let exporter: OTLPExporter
    private let logger: Logger

    package init(configuration: TracingConfiguration, exporter: OTLPExporter, logger: Logger) {
        self.maxQueueSize = configuration.batchMaxQueueSize
        self.maxExportBatchSize = min(configuration.batchMaxExportSize, configuration.batchMaxQueueSize)
        self.scheduleDelay = configuration.batchScheduleDelay
        self.shutdownTimeout = configuration.batchExportTimeout
        self.exporter = exporter
        self.logger = logger
    }

    /// Queues an ended span, encoded (called by ``OTLPSpan/end(at:)``); drops it when the queue
    /// is full.
    package func enqueue(_ span: [UInt8]) {
        let batchReady = queue.withLock { q -> Bool in
            guard q.spans.count < maxQueueSize else {
                q.dropped += 1
                return false
            }
            q.spans.append(span)
            return q.spans.count == maxExportBatchSize
        }
        if batchReady { wake() }
    }

    /// Wakes the export thread now.
    func wake() {
        wakeup.lock()
        wakeup.unlock(withValue: 1)
    }

    /// The spans waiting for export (tests).
    package var queuedCount: Int { queue.withLock { $0.spans.count } }

    package func run() async throws {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        await withTaskCancellationHandler {
            async let exported: Void = pool.runIfActive { self.exportLoop() }
            // Returns on graceful shutdown (or throws when cancelled): stop either way.
            try? await gracefulShutdown()
            queue.withLock { q in
                if q.stopBy == nil { q.stopBy = .now + shutdownTimeout }
            }
            wake()
            try? await exported
        } onCancel: {
            // Cancelled (the group's grace is over): stop after the POST in flight.
            queue.withLock { $0.stopBy = .now }
            wake()
        }
        try? await pool.shutdownGracefully()
    }

    /// The export thread: waits for the schedule or a wake-up, exports all that is queued, and
    /// returns after the final flush.
    private func exportLoop() {
        let delaySeconds =
            Double(scheduleDelay.components.seconds) + Double(scheduleDelay.components.attoseconds) / 1e18
        while true {
            if wakeup.lock(whenValue: 1, timeoutSeconds: max(delaySeconds, 0.001)) {
                wakeup.unlock(withValue: 0)
            }
            let stopBy = queue.withLock { $0.stopBy }
            exportQueued(stopBy: stopBy)
            if stopBy != nil { return }
        }
    }

    private func exportQueued(stopBy: ContinuousClock.Instant?) {
        while true {
            let (batch, dropped) = queue.withLock { q in
                let n = min(q.spans.count, maxExportBatchSize)
                let batch: [[UInt8]]
                if n == q.spans.count {
                    batch = q.spans
                    q.spans = []
                    q.spans.reserveCapacity(maxExportBatchSize)
                } else {
                    batch = Array(q.spans[..<n])
                    q.spans.removeFirst(n)
                }
                defer { q.dropped = 0 }
                return (batch, q.dropped)
            }
            if dropped > 0 {
                logger.warning(
                    "trace queue full: spans dropped (raise OTEL_BSP_MAX_QUEUE_SIZE or lower OTEL_BSP_SCHEDULE_DELAY)",
                    metadata: ["dropped": "\(dropped)"])
            }
            if batch.isEmpty { return }
            var timeout: Duration? = nil
            if let stopBy {
                let left = stopBy - .now
                guard left > .zero else {
                    let lost =
                        batch.count
                        + queue.withLock { q in
                            defer { q.spans = [] }
                            return q.spans.count
                        }
                    logger.warning(
                        "OTEL_BSP_EXPORT_TIMEOUT reached on shutdown: spans not exported",
                        metadata: ["dropped": "\(lost)"])
                    return
                }
                timeout = left
            }
            exporter.export(batch, within: timeout)
        }
    }
}

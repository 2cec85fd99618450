import Functions
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The batch span processor (OpenTelemetry's `BatchSpanProcessor`) as a `Service`: ended
/// sampled spans wait in a bounded queue (`OTEL_BSP_MAX_QUEUE_SIZE`; a span that finds it full
/// is dropped and counted), and a dedicated thread exports each batch as soon as it holds
/// `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` spans, and a batch not yet full once it has waited
/// `OTEL_BSP_SCHEDULE_DELAY` (or on a flush), as the specification's processor does. (Sending the
/// partial batch at every wake-up made five times as many, smaller, exports under load.)
///
/// A span is encoded as it is queued, appended to the bytes of its batch: no allocation per
/// span once the batch buffers have grown (the export thread hands emptied buffers back).
/// The export (a blocking libcurl POST) runs on that thread, never on a Swift-concurrency
/// thread. On graceful shutdown everything left is exported within `OTEL_BSP_EXPORT_TIMEOUT`,
/// then `run()` returns.
package final class OTLPBatchProcessor: Service, Sendable {
    /// Spans encoded as `ScopeSpans.spans` fields, one after the other.
    struct Batch {
        var bytes: [UInt8] = []
        var count = 0
    }

    private struct Queue {
        /// Full batches (``maxExportBatchSize`` spans), oldest first.
        var full: [Batch] = []
        /// The batch spans are appended to.
        var current = Batch()
        /// Spans in `full` and `current`.
        var count = 0
        /// Emptied buffers of exported batches, for new batches.
        var spare: [[UInt8]] = []
        var dropped = 0
        /// Set when shutting down: export what is left before this instant, then stop.
        var stopBy: ContinuousClock.Instant?
        /// Set by ``flush()``: export the batch not yet full too.
        var flush = false
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

    /// Queues an ended span with the phases recorded on it, encoded into the current batch
    /// (``ProtobufWriter/spanField(_:)``, ``SpanFieldWriter``) under one lock: no copy of a span
    /// is kept. A span that finds the queue full is dropped, unwritten. (Called by
    /// ``OTLPSpan/end(at:)`` with its state's fields, read in place.)
    func enqueue(_ span: FinishedSpan, phases: OTLPSpan.Phases, of owner: OTLPSpan) {
        enqueue { emit in
            emit { ProtobufWriter.appendSpanField(span, to: &$0) }
            phases.forEach { phase, number in emit { owner.appendPhase(phase, number: number, to: &$0) } }
        }
    }

    /// Queues a phase that ended after its span (``OTLPSpan/record(_:)``).
    func enqueue(phase: FunctionCallPhase, number: UInt64, of owner: OTLPSpan) {
        enqueue { emit in emit { owner.appendPhase(phase, number: number, to: &$0) } }
    }

    /// Queues the spans `spans` emits under one lock: each `emit` is one span, which its
    /// `write` appends to the batch's bytes as a `ScopeSpans.spans` field.
    private func enqueue(_ spans: (_ emit: (_ write: (inout [UInt8]) -> Void) -> Void) -> Void) {
        let batchReady = queue.withLock { q -> Bool in
            var ready = false
            spans { write in
                guard q.count < maxQueueSize else {
                    q.dropped += 1
                    return
                }
                if q.current.bytes.capacity == 0 {
                    q.current.bytes = q.spare.popLast() ?? []
                    q.current.bytes.reserveCapacity(maxExportBatchSize * 320)
                }
                write(&q.current.bytes)
                q.current.count += 1
                q.count += 1
                guard q.current.count == maxExportBatchSize else { return }
                q.full.append(q.current)
                q.current = Batch()
                ready = true
            }
            return ready
        }
        if batchReady { wake() }
    }

    /// Exports everything queued now, the batch not yet full included (without waiting for it).
    func flush() {
        queue.withLock { $0.flush = true }
        wake()
    }

    /// Wakes the export thread now.
    private func wake() {
        wakeup.lock()
        wakeup.unlock(withValue: 1)
    }

    /// The spans waiting for export (tests).
    package var queuedCount: Int { queue.withLock { $0.count } }

    /// Takes every queued batch off the queue, each as the request the exporter would send,
    /// and hands the emptied buffers back as an export does (tests).
    package func takeQueuedRequests() -> [[UInt8]] {
        var requests: [[UInt8]] = []
        while true {
            var batch = takeBatch(partial: true).0
            if batch.count == 0 { return requests }
            var body: [UInt8] = []
            exporter.encoder.encode(spanFields: batch.bytes, into: &body)
            requests.append(body)
            recycle(&batch)
        }
    }

    /// Hands an exported batch's buffer back, emptied, for a new batch (two kept: the one being
    /// filled and one more).
    private func recycle(_ batch: inout Batch) {
        var bytes: [UInt8] = []
        swap(&bytes, &batch.bytes)
        batch.count = 0
        bytes.removeAll(keepingCapacity: true)
        queue.withLock { q in
            if q.spare.count < 2 { q.spare.append(bytes) }
        }
    }

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

    /// The export thread: waits for a full batch, the schedule delay or a flush, exports the
    /// full batches (and the one not yet full when the delay has passed, on a flush and on
    /// shutdown), and returns after the final flush.
    private func exportLoop() {
        // The request body, reused from export to export.
        var body: [UInt8] = []
        // When the batch not yet full was last sent (or found empty).
        var lastPartial = ContinuousClock.now
        while true {
            let left = scheduleDelay - (ContinuousClock.now - lastPartial)
            let seconds = Double(left.components.seconds) + Double(left.components.attoseconds) / 1e18
            if wakeup.lock(whenValue: 1, timeoutSeconds: max(seconds, 0.001)) {
                wakeup.unlock(withValue: 0)
            }
            let (stopBy, flush) = queue.withLock { q in
                defer { q.flush = false }
                return (q.stopBy, q.flush)
            }
            let partial = stopBy != nil || flush || ContinuousClock.now - lastPartial >= scheduleDelay
            exportQueued(stopBy: stopBy, partial: partial, body: &body)
            if partial { lastPartial = .now }
            if stopBy != nil { return }
        }
    }

    /// The oldest full batch, or with `partial` the batch not yet full when there is none,
    /// taken off the queue (empty when there is nothing to take).
    private func takeBatch(partial: Bool) -> (Batch, dropped: Int) {
        queue.withLock { q in
            defer { q.dropped = 0 }
            let batch: Batch
            if !q.full.isEmpty {
                batch = q.full.removeFirst()
            } else if partial, q.current.count > 0 {
                batch = q.current
                q.current = Batch()
            } else {
                batch = Batch()
            }
            q.count -= batch.count
            return (batch, q.dropped)
        }
    }

    private func exportQueued(stopBy: ContinuousClock.Instant?, partial: Bool, body: inout [UInt8]) {
        while true {
            let (taken, dropped) = takeBatch(partial: partial)
            var batch = taken
            if dropped > 0 {
                logger.warning(
                    "trace queue full: spans dropped (raise OTEL_BSP_MAX_QUEUE_SIZE or lower OTEL_BSP_SCHEDULE_DELAY)",
                    metadata: ["dropped": "\(dropped)"])
            }
            if batch.count == 0 { return }
            var timeout: Duration? = nil
            if let stopBy {
                let left = stopBy - .now
                guard left > .zero else {
                    let lost =
                        batch.count
                        + queue.withLock { q in
                            defer {
                                q.full = []
                                q.current = Batch()
                                q.count = 0
                            }
                            return q.count
                        }
                    logger.warning(
                        "OTEL_BSP_EXPORT_TIMEOUT reached on shutdown: spans not exported",
                        metadata: ["dropped": "\(lost)"])
                    return
                }
                timeout = left
            }
            exporter.export(spanFields: batch.bytes, count: batch.count, body: &body, within: timeout)
            recycle(&batch)
        }
    }
}

import Synchronization
import Tracing

/// A span of ``OTLPTracer``. A sampled span records its name, attributes, status and events
/// under a mutex and, when it ends, hands its encoded ``FinishedSpan`` to the batch processor
/// once. An
/// unsampled span only carries its context (so its children inherit the decision): every
/// mutation is a no-op and it is never exported.
package final class OTLPSpan: Span {
    package let context: ServiceContext
    package let spanContext: OTLPSpanContext
    package let isRecording: Bool
    private let kind: SpanKind
    private let parentSpanID: UInt64
    private let startNanoseconds: UInt64
    private let processor: OTLPBatchProcessor?
    private let state: Mutex<State>

    struct State {
        var name: String
        var attributes = SpanAttributes()
        var status: SpanStatus?
        var events: [SpanEvent] = []
        var ended = false
    }

    init(
        name: String, context: ServiceContext, spanContext: OTLPSpanContext, kind: SpanKind, parentSpanID: UInt64,
        startNanoseconds: UInt64, processor: OTLPBatchProcessor?
    ) {
        self.context = context
        self.spanContext = spanContext
        self.isRecording = spanContext.sampled && processor != nil
        self.kind = kind
        self.parentSpanID = parentSpanID
        self.startNanoseconds = startNanoseconds
        self.processor = processor
        self.state = Mutex(State(name: name))
    }

    package var operationName: String {
        get { state.withLock { $0.name } }
        set {
            guard isRecording else { return }
            state.withLock { $0.name = newValue }
        }
    }

    package var attributes: SpanAttributes {
        get { isRecording ? state.withLock { $0.attributes } : [:] }
        set {
            guard isRecording else { return }
            state.withLock { if !$0.ended { $0.attributes = newValue } }
        }
    }

    package func setStatus(_ status: SpanStatus) {
        guard isRecording else { return }
        state.withLock { s in
            // An Ok status is final (the specification); an error does not override it.
            if s.ended || s.status?.code == .ok { return }
            s.status = status
        }
    }

    package func addEvent(_ event: SpanEvent) {
        guard isRecording else { return }
        state.withLock { if !$0.ended { $0.events.append(event) } }
    }

    package func recordError<Instant: TracerInstant>(
        _ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant
    ) {
        guard isRecording else { return }
        var eventAttributes = attributes
        eventAttributes["exception.type"] = String(describing: type(of: error))
        eventAttributes["exception.message"] = String(describing: error)
        addEvent(SpanEvent(name: "exception", at: instant(), attributes: eventAttributes))
    }

    /// Links are not recorded.
    package func addLink(_ link: SpanLink) {}

    package func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        guard isRecording, let processor else { return }
        let end = instant().nanosecondsSinceEpoch
        let finished: FinishedSpan? = state.withLock { s in
            if s.ended { return nil }
            s.ended = true
            return FinishedSpan(
                name: s.name, kind: kind, context: spanContext, parentSpanID: parentSpanID,
                startNanoseconds: startNanoseconds, endNanoseconds: max(end, startNanoseconds),
                attributes: s.attributes, status: s.status, events: s.events)
        }
        if let finished { processor.enqueue(OTLPEncoder.span(finished)) }
    }
}

/// What is exported of an ended span.
package struct FinishedSpan: Sendable {
    package var name: String
    package var kind: SpanKind
    package var context: OTLPSpanContext
    /// 0 for a root span.
    package var parentSpanID: UInt64
    package var startNanoseconds: UInt64
    package var endNanoseconds: UInt64
    package var attributes: SpanAttributes
    package var status: SpanStatus?
    package var events: [SpanEvent]

    package init(
        name: String, kind: SpanKind, context: OTLPSpanContext, parentSpanID: UInt64, startNanoseconds: UInt64,
        endNanoseconds: UInt64, attributes: SpanAttributes, status: SpanStatus?, events: [SpanEvent]
    ) {
        self.name = name
        self.kind = kind
        self.context = context
        self.parentSpanID = parentSpanID
        self.startNanoseconds = startNanoseconds
        self.endNanoseconds = endNanoseconds
        self.attributes = attributes
        self.status = status
        self.events = events
    }
}

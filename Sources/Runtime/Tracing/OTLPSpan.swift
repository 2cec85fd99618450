import Functions
import Synchronization
import Tracing

/// A span of ``OTLPTracer``. A sampled span records its name, attributes, status and events
/// under a mutex and, when it ends, is encoded once into the batch processor's current batch.
/// An unsampled span only carries its context (so its children inherit the decision): every
/// mutation is a no-op and it is never exported.
///
/// The attributes every traced request sets (function, model, version, cold; the HTTP method,
/// path, route and status; the RPC's) are fields of ``RequestAttributes``, set through
/// ``recordFunction(_:model:version:cold:)`` and ``record(_:)``, encoded straight to
/// protobuf; any other attribute goes to a `SpanAttributes` dictionary.
///
/// A server span is also its request's ``FunctionCallTrace``: the phases of the request's
/// function calls are recorded on it as values and exported as its children when it ends
/// (`OTLPSpan+Phases.swift`).
package final class OTLPSpan: Span, FunctionCallSpan, FunctionCallTrace {
    /// The context the span started in; ``context`` adds the span's own ``OTLPSpanContext``
    /// when asked (leaf spans never are, so they copy no `ServiceContext`).
    private let parentContext: ServiceContext
    package let spanContext: OTLPSpanContext
    package let isRecording: Bool
    let kind: SpanKind
    let processor: OTLPBatchProcessor?
    let state: Mutex<State>

    struct State {
        /// What the span exports, as recorded so far (its end is set when it ends).
        var span: FinishedSpan
        var ended = false
        /// Phases of function calls recorded while the span was open, exported with it.
        var phases = Phases()
        /// Phases recorded so far (open or late), which numbers their span ids.
        var phaseCount: UInt64 = 0
    }

    /// Whether `parentContext` holds an ``OTLPSpanContextKey`` entry (the parent, when it does).
    private let parentIsEntry: Bool

    /// - Parameter parentIsEntry: whether `parentContext` holds an ``OTLPSpanContextKey`` entry;
    ///   nil: look.
    init(
        name: String, parentContext: ServiceContext, spanContext: OTLPSpanContext, kind: SpanKind,
        parentSpanID: UInt64, startNanoseconds: UInt64, processor: OTLPBatchProcessor?, parentIsEntry: Bool? = nil
    ) {
        self.parentContext = parentContext
        self.parentIsEntry = parentIsEntry ?? (parentContext[OTLPSpanContextKey.self] != nil)
        self.spanContext = spanContext
        self.isRecording = spanContext.sampled && processor != nil
        self.kind = kind
        self.processor = processor
        self.state = Mutex(
            State(
                span: FinishedSpan(
                    name: name, kind: kind, context: spanContext, parentSpanID: parentSpanID,
                    startNanoseconds: startNanoseconds, endNanoseconds: 0, attributes: SpanAttributes(), status: nil,
                    events: [])))
    }

    /// The context the span started in, with this span as the current one. A server span is
    /// one entry, as the request's ``FunctionCallTrace`` (a class reference, stored without a
    /// box), which ``OTLPTracer`` also takes as the parent of spans started in the context
    /// (``OTLPTracer/parent(in:)``); any other span is an ``OTLPSpanContextKey`` entry.
    package var context: ServiceContext {
        var context = parentContext
        if kind == .server {
            // A caller's span extracted into the parent context is this span's parent, not its
            // children's. It is usually the only entry (a request's context starts empty): then
            // the context starts afresh rather than removing it.
            if parentIsEntry {
                if context.count == 1 {
                    context = .topLevel
                } else {
                    context[OTLPSpanContextKey.self] = nil
                }
            }
            context[FunctionCallTraceKey.self] = self
        } else {
            context[OTLPSpanContextKey.self] = spanContext
        }
        return context
    }

    package var operationName: String {
        get { state.withLock { $0.span.exportedName } }
        set {
            guard isRecording else { return }
            state.withLock { s in
                s.span.name = newValue
                s.span.nameSuffix = nil
            }
        }
    }

    /// All attributes, the ``RequestAttributes`` fields included; setting replaces them all.
    package var attributes: SpanAttributes {
        get {
            guard isRecording else { return [:] }
            return state.withLock { s in
                var all = s.span.attributes
                s.span.known.forEach { all[$0] = $1 }
                return all
            }
        }
        set {
            guard isRecording else { return }
            state.withLock { s in
                guard !s.ended else { return }
                s.span.attributes = newValue
                s.span.known = RequestAttributes()
            }
        }
    }

    /// Sets the function call's attributes (``FunctionSpans/functionKey`` and the others) as
    /// fields.
    package func recordFunction(_ function: String, model: String, version: Int?, cold: Bool?) {
        guard isRecording else { return }
        state.withLock { s in
            guard !s.ended else { return }
            s.span.known.function = function
            s.span.known.model = model
            if let version { s.span.known.version = version }
            if let cold { s.span.known.cold = cold }
        }
    }

    /// Sets the fields of `attributes` that are set (the others keep their values) and, when
    /// given, appends `nameSuffix` to the name after a space, under one lock (kept apart and
    /// written after the name when the span is encoded: no string built per request).
    package func record(_ attributes: consuming RequestAttributes, nameSuffix: String? = nil) {
        guard isRecording else { return }
        // Moved into the span (no copy).
        var pending: RequestAttributes? = consume attributes
        state.withLock { s in
            guard !s.ended else { return }
            s.span.known.merge(pending.take()!)
            if let nameSuffix {
                if let suffix = s.span.nameSuffix { s.span.name += " " + suffix }
                s.span.nameSuffix = nameSuffix
            }
        }
    }

    package func setStatus(_ status: SpanStatus) {
        guard isRecording else { return }
        state.withLock { s in
            // An Ok status is final (the specification); an error does not override it.
            if s.ended || s.span.status?.code == .ok { return }
            s.span.status = status
        }
    }

    package func addEvent(_ event: SpanEvent) {
        guard isRecording else { return }
        state.withLock { if !$0.ended { $0.span.events.append(event) } }
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
        state.withLock { s in
            if s.ended { return }
            s.ended = true
            s.span.endNanoseconds = max(end, s.span.startNanoseconds)
            // A request's `mscr.cold` is its function call's (the phase knows it; the transports
            // need not read it back from the response).
            if s.span.known.cold == nil, let cold = s.phases.cold { s.span.known.cold = cold }
            // Encoded where they are, into the batch: no copy of the span or its phases. (A
            // phase that ends meanwhile waits for the lock, then finds the span ended.)
            processor.enqueue(s.span, phases: s.phases, of: self)
        }
    }
}

/// What is exported of an ended span.
package struct FinishedSpan: Sendable {
    /// The name, or its first part when ``nameSuffix`` is set (``exportedName``).
    package var name: String
    /// Exported after ``name`` and a space (a server span's route after its method).
    package var nameSuffix: String?
    package var kind: SpanKind
    package var context: OTLPSpanContext
    /// 0 for a root span.
    package var parentSpanID: UInt64
    package var startNanoseconds: UInt64
    package var endNanoseconds: UInt64
    package var attributes: SpanAttributes
    /// Encoded before ``attributes``.
    package var known: RequestAttributes
    package var status: SpanStatus?
    package var events: [SpanEvent]

    package init(
        name: String, kind: SpanKind, context: OTLPSpanContext, parentSpanID: UInt64, startNanoseconds: UInt64,
        endNanoseconds: UInt64, attributes: SpanAttributes, known: RequestAttributes = RequestAttributes(),
        status: SpanStatus?, events: [SpanEvent]
    ) {
        self.name = name
        self.nameSuffix = nil
        self.kind = kind
        self.context = context
        self.parentSpanID = parentSpanID
        self.startNanoseconds = startNanoseconds
        self.endNanoseconds = endNanoseconds
        self.attributes = attributes
        self.known = known
        self.status = status
        self.events = events
    }
}

extension FinishedSpan {
    /// The span's name as exported: ``name``, and ``nameSuffix`` after a space when set.
    package var exportedName: String { nameSuffix.map { name + " " + $0 } ?? name }
}

import Tracing

/// The child spans of one function call, through the swift-distributed-tracing API (the
/// runtime passes the tracer it bootstrapped in ``FunctionHostSettings/tracer``; with none,
/// every call here is a no-op), or, for the phases every call has, as values on the request's
/// ``FunctionCallTrace`` when the transport gave it one.
///
/// A call records `queue wait` (admission), on a cold start `model load` with `model fetch`
/// and `model parse` under it, and `inference`; each carries ``functionKey``, ``modelKey``
/// and, once known, ``versionKey`` and ``coldKey``.
package enum FunctionSpans {
    /// The function's name.
    package static let functionKey = "mscr.function"
    /// The model the function serves.
    package static let modelKey = "mscr.model"
    /// The model version that answered.
    package static let versionKey = "mscr.model.version"
    /// Whether this request waited for a model load.
    package static let coldKey = "mscr.cold"

    /// The current context's ``FunctionCallTrace`` (the runtime's server spans are one), looked
    /// up once per call and passed to ``start(_:trace:tracer:config:version:cold:)``.
    static func currentTrace() -> (any FunctionCallTrace)? {
        ServiceContext.current?[FunctionCallTraceKey.self]
    }

    /// Starts timing a phase of a call (`queue wait`, `inference`) as a child of the current
    /// context: recorded as a value on the request's `trace` when there is one (from
    /// ``currentTrace()``), else as a span of `tracer` with the function's attributes.
    static func start(
        _ name: String, trace: (any FunctionCallTrace)?, tracer: any Tracer, config: FunctionConfig,
        version: Int? = nil, cold: Bool? = nil
    ) -> FunctionPhase {
        if let trace {
            guard trace.isRecording else { return .none }
            let phase = FunctionCallPhase(
                name: name, startNanoseconds: DefaultTracerClock.now.nanosecondsSinceEpoch, function: config.name,
                model: config.model, version: version, cold: cold)
            return .recorded(phase, on: trace)
        }
        let span = tracer.startSpan(name)
        guard span.isRecording else { return .span(span) }
        if let call = span as? any FunctionCallSpan {
            call.recordFunction(config.name, model: config.model, version: version, cold: cold)
            return .span(span)
        }
        // Built here and set once (`updateAttributes` reads the span's attributes, copies and
        // writes them back).
        var a = SpanAttributes([String: SpanAttribute](minimumCapacity: 4))
        a[functionKey] = config.name
        a[modelKey] = config.model
        if let version { a[versionKey] = version }
        if let cold { a[coldKey] = cold }
        span.attributes = a
        return .span(span)
    }

    /// Records the load a cold request waited for, after the fact: `model load` from
    /// `waitStart` until now, `model fetch` then `model parse` inside it. Streaming loads fetch
    /// and parse at once, so the two are laid end to end with their measured durations (time
    /// waiting for bytes, the rest of the load) clipped to the wait; the exact sums are
    /// attributes of `model load`.
    static func recordLoad(
        tracer: any Tracer, config: FunctionConfig, report: LoadReport, waitStart: DefaultTracerClock.Instant
    ) {
        let end = DefaultTracerClock.now
        let load = tracer.startSpan("model load", at: waitStart)
        guard load.isRecording else { return load.end(at: end) }
        load.updateAttributes { a in
            a[functionKey] = config.name
            a[modelKey] = config.model
            a[versionKey] = report.version
            a[coldKey] = true
            a["mscr.load.fetch_ms"] = report.fetchMs
            a["mscr.load.parse_ms"] = report.parseMs
            a["mscr.load.total_ms"] = report.totalMs
            a["mscr.load.bytes"] = report.bytes
        }
        let span = end.nanosecondsSinceEpoch - waitStart.nanosecondsSinceEpoch
        let parseNs = min(span, UInt64(max(0, report.parseMs * 1e6)))
        let parseStart = DefaultTracerClock.Instant(nanosecondsSinceEpoch: end.nanosecondsSinceEpoch - parseNs)
        let fetch = tracer.startSpan("model fetch", context: load.context, at: waitStart)
        fetch.end(at: parseStart)
        let parse = tracer.startSpan("model parse", context: load.context, at: parseStart)
        parse.end(at: end)
        load.end(at: end)
    }

}

/// A span that records a function call's attributes as fields rather than in a `SpanAttributes`
/// dictionary (the runtime's OTLP spans do; ``FunctionSpans`` gives any other span the
/// dictionary).
package protocol FunctionCallSpan: Span {
    /// Sets ``FunctionSpans/functionKey`` and ``FunctionSpans/modelKey``, and
    /// ``FunctionSpans/versionKey`` and ``FunctionSpans/coldKey`` when given.
    func recordFunction(_ function: String, model: String, version: Int?, cold: Bool?)
}

/// A phase of a function call being timed (``FunctionSpans/start(_:trace:tracer:config:version:cold:)``):
/// a span of the tracer, a value for the request's ``FunctionCallTrace``, or nothing (an
/// unsampled trace).
struct FunctionPhase {
    /// The span, or the trace the phase is recorded on (the phase itself is kept apart, so that
    /// ending moves it out rather than copying it out of an enum's payload).
    private let target: Target
    private var phase: FunctionCallPhase?

    private enum Target {
        case none
        case span(any Span)
        case trace(any FunctionCallTrace)
    }

    /// Nothing is timed (an unsampled trace).
    static let none = FunctionPhase(target: .none, phase: nil)

    /// Timed as `span`, which ending ends.
    static func span(_ span: any Span) -> FunctionPhase { FunctionPhase(target: .span(span), phase: nil) }

    /// Timed as `phase`, which ending records on `trace`.
    static func recorded(_ phase: consuming FunctionCallPhase, on trace: any FunctionCallTrace) -> FunctionPhase {
        FunctionPhase(target: .trace(trace), phase: phase)
    }

    /// Ends the phase now.
    consuming func end() {
        switch target {
        case .none: return
        case .span(let span): span.end()
        case .trace(let trace):
            guard var phase = phase.take() else { return }
            phase.endNanoseconds = DefaultTracerClock.now.nanosecondsSinceEpoch
            trace.record(phase)
        }
    }

    /// Ends the phase now, marking it failed with `error`.
    consuming func fail(_ error: any Error) {
        switch target {
        case .none: return
        case .span(let span):
            span.recordError(error)
            span.setStatus(SpanStatus(code: .error))
            span.end()
        case .trace(let trace):
            guard var phase = phase.take() else { return }
            phase.endNanoseconds = DefaultTracerClock.now.nanosecondsSinceEpoch
            phase.error = error
            trace.record(phase)
        }
    }
}

/// A request's trace that takes the phases of its function calls as values and exports each
/// as a child span of the request's span (the runtime's server spans are one: a phase costs no
/// span object, no context copy and no lock of its own). The transport puts it in the
/// request's `ServiceContext` under ``FunctionCallTraceKey``.
package protocol FunctionCallTrace: AnyObject, Sendable {
    /// Whether the request is sampled (phases of an unsampled one are not timed).
    var isRecording: Bool { get }
    /// Records a finished phase as a child span of the request's span.
    func record(_ phase: consuming FunctionCallPhase)
}

/// The `ServiceContext` key of a request's ``FunctionCallTrace``.
package enum FunctionCallTraceKey: ServiceContextKey {
    package typealias Value = any FunctionCallTrace
}

/// A finished phase of a function call, exported as a child span with the function's
/// attributes (``FunctionSpans/functionKey`` and the others).
package struct FunctionCallPhase: Sendable {
    /// The span name (`queue wait`, `inference`).
    package var name: String
    package var startNanoseconds: UInt64
    package var endNanoseconds: UInt64 = 0
    package var function: String
    package var model: String
    package var version: Int?
    package var cold: Bool?
    /// Set when the phase failed: the span's status is then an error, with an `exception`
    /// event.
    package var error: (any Error)?

    package init(
        name: String, startNanoseconds: UInt64, endNanoseconds: UInt64 = 0, function: String, model: String,
        version: Int? = nil, cold: Bool? = nil, error: (any Error)? = nil
    ) {
        self.name = name
        self.startNanoseconds = startNanoseconds
        self.endNanoseconds = endNanoseconds
        self.function = function
        self.model = model
        self.version = version
        self.cold = cold
        self.error = error
    }
}

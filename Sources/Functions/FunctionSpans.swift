import Tracing

/// The child spans of one function call, through the swift-distributed-tracing API only (the
/// runtime passes the tracer it bootstrapped in ``FunctionHostSettings/tracer``; with none,
/// every call here is a no-op).
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

    /// Starts a child span of the current context with the function's attributes.
    static func start(
        _ name: String, tracer: any Tracer, config: FunctionConfig, version: Int? = nil, cold: Bool? = nil
    ) -> any Span {
        let span = tracer.startSpan(name)
        guard span.isRecording else { return span }
        if let call = span as? any FunctionCallSpan {
            call.recordFunction(config.name, model: config.model, version: version, cold: cold)
            return span
        }
        // Built here and set once (`updateAttributes` reads the span's attributes, copies and
        // writes them back).
        var a = SpanAttributes([String: SpanAttribute](minimumCapacity: 4))
        a[functionKey] = config.name
        a[modelKey] = config.model
        if let version { a[versionKey] = version }
        if let cold { a[coldKey] = cold }
        span.attributes = a
        return span
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

    /// Ends `span`, marking it failed with `error`.
    static func fail(_ span: any Span, _ error: any Error) {
        span.recordError(error)
        span.setStatus(SpanStatus(code: .error))
        span.end()
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

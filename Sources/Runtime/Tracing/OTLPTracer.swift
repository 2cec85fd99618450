import Functions
import Tracing

/// The process's tracer (bootstrapped into `InstrumentationSystem` when tracing is on): W3C
/// `traceparent`/`tracestate` propagation, random ids, the configured sampler, and the batch
/// processor sampled spans go to when they end.
package struct OTLPTracer: Tracer {
    package typealias Span = OTLPSpan

    let sampler: TraceSampler
    let processor: OTLPBatchProcessor
    let ids = SpanIDGenerator()

    package init(sampler: TraceSampler, processor: OTLPBatchProcessor) {
        self.sampler = sampler
        self.processor = processor
    }

    package func startSpan<Instant: TracerInstant>(
        _ operationName: String, context: @autoclosure () -> ServiceContext, ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant, function: String, file fileID: String, line: UInt
    ) -> OTLPSpan {
        let context = context()
        let (parent, entry) = Self.parentAndEntry(in: context)
        let high: UInt64
        let low: UInt64
        let spanID: UInt64
        if let parent {
            (high, low, spanID) = (parent.traceIDHigh, parent.traceIDLow, ids.span())
        } else {
            (high, low, spanID) = ids.traceAndSpan()
        }
        let sampled = sampler.shouldSample(traceIDLow: low, parent: parent)
        let own = OTLPSpanContext(
            traceIDHigh: high, traceIDLow: low, spanID: spanID, sampled: sampled, traceState: parent?.traceState)
        return OTLPSpan(
            name: operationName, parentContext: context, spanContext: own, kind: kind,
            parentSpanID: parent?.spanID ?? 0, startNanoseconds: sampled ? instant().nanosecondsSinceEpoch : 0,
            processor: sampled ? processor : nil, parentIsEntry: entry)
    }

    /// The span that spans started in `context` are children of: the innermost span of this
    /// tracer or a caller's span extracted from its headers (an ``OTLPSpanContextKey`` entry),
    /// else a server span as the request's ``FunctionCallTrace``. A server span's context drops
    /// the entry, so when both are set the entry is the innermost.
    static func parent(in context: ServiceContext) -> OTLPSpanContext? { parentAndEntry(in: context).0 }

    /// ``parent(in:)``, and whether it is the context's ``OTLPSpanContextKey`` entry (which a
    /// server span's own context then drops, without looking it up again).
    static func parentAndEntry(in context: ServiceContext) -> (OTLPSpanContext?, Bool) {
        if context.isEmpty { return (nil, false) }
        if let span = context[OTLPSpanContextKey.self] { return (span, true) }
        return ((context[FunctionCallTraceKey.self] as? OTLPSpan)?.spanContext, false)
    }

    /// Asks the processor to export what is queued (without waiting for it).
    package func forceFlush() { processor.flush() }

    package func extract<Carrier, Extract>(
        _ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract
    ) where Extract: Extractor, Carrier == Extract.Carrier {
        guard let traceparent = extractor.extract(key: "traceparent", from: carrier),
            let remote = OTLPSpanContext(
                traceparent: traceparent, traceState: extractor.extract(key: "tracestate", from: carrier))
        else { return }
        context[OTLPSpanContextKey.self] = remote
    }

    package func inject<Carrier, Inject>(
        _ context: ServiceContext, into carrier: inout Carrier, using injector: Inject
    ) where Inject: Injector, Carrier == Inject.Carrier {
        guard let own = Self.parent(in: context) else { return }
        injector.inject(own.traceparent, forKey: "traceparent", into: &carrier)
        if let state = own.traceState, !state.isEmpty { injector.inject(state, forKey: "tracestate", into: &carrier) }
    }
}

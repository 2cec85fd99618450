import Functions
import Tracing

/// A server span as its request's ``FunctionCallTrace``: each phase of a function call
/// (`queue wait`, `inference`) is kept as a value while the span is open and exported, when it
/// ends, as a child span under the same batch lock (a phase that ends after its server span is
/// exported alone at once).
extension OTLPSpan {
    package func record(_ phase: consuming FunctionCallPhase) {
        guard isRecording, let processor else { return }
        // Moved into the span (no copy), or kept here when late.
        var pending: FunctionCallPhase? = consume phase
        let late: UInt64? = state.withLock { s in
            s.phaseCount += 1
            if s.ended { return s.phaseCount }
            s.phases.append(pending.take()!, number: s.phaseCount)
            return nil
        }
        if let number = late, let phase = pending {
            processor.enqueue { emit in emit(finished(phase, number: number)) }
        }
    }

    /// The child span of this span that `phase` is; its span id is derived from this span's
    /// and the phase's number (SplitMix64: distinct for distinct numbers, never zero).
    func finished(_ phase: FunctionCallPhase, number: UInt64) -> FinishedSpan {
        var id = Self.mix(spanContext.spanID &+ number &* 0x9E37_79B9_7F4A_7C15)
        if id == 0 { id = 1 }
        var status: SpanStatus?
        var events: [SpanEvent] = []
        if let error = phase.error {
            // As `recordError(_:attributes:at:)` records it.
            status = SpanStatus(code: .error)
            var attributes = SpanAttributes()
            attributes["exception.type"] = String(describing: type(of: error))
            attributes["exception.message"] = String(describing: error)
            events.append(
                SpanEvent(
                    name: "exception", at: DefaultTracerClock.Instant(nanosecondsSinceEpoch: phase.endNanoseconds),
                    attributes: attributes))
        }
        let context = OTLPSpanContext(
            traceIDHigh: spanContext.traceIDHigh, traceIDLow: spanContext.traceIDLow, spanID: id,
            sampled: spanContext.sampled, traceState: spanContext.traceState)
        return FinishedSpan(
            name: phase.name, kind: .internal, context: context, parentSpanID: spanContext.spanID,
            startNanoseconds: phase.startNanoseconds,
            endNanoseconds: max(phase.endNanoseconds, phase.startNanoseconds), attributes: [:],
            known: RequestAttributes(
                function: phase.function, model: phase.model, version: phase.version, cold: phase.cold),
            status: status, events: events)
    }

    /// SplitMix64's finaliser (a bijection of 64-bit values).
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The phases an open span holds: two inline (a warm call has `queue wait` and
    /// `inference`), more in an array.
    struct Phases {
        private var first: (FunctionCallPhase, UInt64)?
        private var second: (FunctionCallPhase, UInt64)?
        private var more: [(FunctionCallPhase, UInt64)] = []

        var isEmpty: Bool { first == nil }

        /// Whether the call waited for a model load: the first phase that knows (`inference`).
        var cold: Bool? {
            if let cold = first?.0.cold { return cold }
            if let cold = second?.0.cold { return cold }
            return more.lazy.compactMap(\.0.cold).first
        }
        var count: Int { (first == nil ? 0 : 1) + (second == nil ? 0 : 1) + more.count }

        mutating func append(_ phase: consuming FunctionCallPhase, number: UInt64) {
            if first == nil {
                first = (phase, number)
            } else if second == nil {
                second = (phase, number)
            } else {
                more.append((phase, number))
            }
        }

        func forEach(_ body: (FunctionCallPhase, UInt64) -> Void) {
            if let (phase, number) = first { body(phase, number) }
            if let (phase, number) = second { body(phase, number) }
            for (phase, number) in more { body(phase, number) }
        }
    }
}

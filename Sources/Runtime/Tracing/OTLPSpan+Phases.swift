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
            processor.enqueue(phase: phase, number: number, of: self)
        }
    }

    /// Appends the child span `phase` is (``finished(_:number:)``) to a batch's bytes: straight
    /// from the phase (``SpanFieldWriter/appendPhase(_:spanID:parent:to:)``) unless it failed.
    func appendPhase(_ phase: FunctionCallPhase, number: UInt64, to bytes: inout [UInt8]) {
        if SpanFieldWriter.appendPhase(phase, spanID: phaseSpanID(number), parent: spanContext, to: &bytes) { return }
        ProtobufWriter.appendSpanField(finished(phase, number: number), to: &bytes)
    }

    /// The span id of this span's phase `number`: derived from this span's id and the number
    /// (SplitMix64: distinct for distinct numbers, never zero).
    func phaseSpanID(_ number: UInt64) -> UInt64 {
        let id = Self.mix(spanContext.spanID &+ number &* 0x9E37_79B9_7F4A_7C15)
        return id == 0 ? 1 : id
    }

    /// The child span of this span that `phase` is, its id ``phaseSpanID(_:)``.
    func finished(_ phase: FunctionCallPhase, number: UInt64) -> FinishedSpan {
        let id = phaseSpanID(number)
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
            endNanoseconds: max(phase.endNanoseconds, phase.startNanoseconds), attributes: SpanAttributes(),
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
    /// `inference`), more in an array. The inline two are stored, not optional, so reading them
    /// borrows them in place (an optional's payload was copied out to be read).
    struct Phases {
        /// A phase and its number among the span's phases.
        struct Numbered {
            var phase: FunctionCallPhase
            var number: UInt64

            static let unused = Numbered(
                phase: FunctionCallPhase(name: "", startNanoseconds: 0, function: "", model: ""), number: 0)
        }

        private var first = Numbered.unused
        private var second = Numbered.unused
        private var more: [Numbered] = []
        private(set) var count = 0

        var isEmpty: Bool { count == 0 }

        /// Whether the call waited for a model load: the first phase that knows (`inference`).
        var cold: Bool? {
            if count > 0, let cold = first.phase.cold { return cold }
            if count > 1, let cold = second.phase.cold { return cold }
            return more.lazy.compactMap(\.phase.cold).first
        }

        mutating func append(_ phase: consuming FunctionCallPhase, number: UInt64) {
            switch count {
            case 0: first = Numbered(phase: phase, number: number)
            case 1: second = Numbered(phase: phase, number: number)
            default: more.append(Numbered(phase: phase, number: number))
            }
            count += 1
        }

        func forEach(_ body: (borrowing FunctionCallPhase, UInt64) -> Void) {
            if count > 0 { body(first.phase, first.number) }
            if count > 1 { body(second.phase, second.number) }
            for numbered in more { body(numbered.phase, numbered.number) }
        }
    }
}

/// The sampling decision of a new span, per the OpenTelemetry SDK specification for the
/// samplers ``TracingConfiguration/Sampler`` names.
package struct TraceSampler: Sendable {
    package let sampler: TracingConfiguration.Sampler

    package init(_ sampler: TracingConfiguration.Sampler) { self.sampler = sampler }

    /// Whether a span of trace `traceIDLow` (the low 64 bits of its id) with `parent` (nil for
    /// a root span) is recorded and exported.
    package func shouldSample(traceIDLow: UInt64, parent: OTLPSpanContext?) -> Bool {
        switch sampler {
        case .alwaysOn: return true
        case .alwaysOff: return false
        case .traceIDRatio(let ratio): return Self.ratioSamples(traceIDLow: traceIDLow, ratio: ratio)
        case .parentBasedAlwaysOn: return parent?.sampled ?? true
        case .parentBasedAlwaysOff: return parent?.sampled ?? false
        case .parentBasedTraceIDRatio(let ratio):
            return parent?.sampled ?? Self.ratioSamples(traceIDLow: traceIDLow, ratio: ratio)
        }
    }

    /// `TraceIdRatioBased`: deterministic on the trace id. The randomness is the trace id's
    /// least significant 56 bits (W3C Trace Context level 2); the span is sampled when it is
    /// at least the rejection threshold `(1 - ratio) * 2^56`, so a ratio of 1 keeps every trace
    /// and 0 none, and every process deciding on the same trace agrees.
    package static func ratioSamples(traceIDLow: UInt64, ratio: Double) -> Bool {
        if ratio >= 1 { return true }
        if ratio <= 0 { return false }
        let randomness = traceIDLow & (1 << 56 - 1)
        let threshold = UInt64(((1 - ratio) * 72_057_594_037_927_936).rounded(.up))
        return randomness >= threshold
    }
}

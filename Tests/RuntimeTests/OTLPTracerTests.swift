import Logging
import Runtime
import SwiftProtobuf
import Testing
import Tracing

@Suite struct OTLPTracerTests {
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736"

    func tracer(_ sampler: TracingConfiguration.Sampler, queue: Int = 16) -> (OTLPTracer, OTLPBatchProcessor) {
        testTracer(sampler, queue: queue)
    }

    func remote(_ traceparent: String, _ tracer: OTLPTracer) -> ServiceContext {
        var context = ServiceContext.topLevel
        tracer.extract(["traceparent": traceparent, "tracestate": "k=v"], into: &context, using: DictExtractor())
        return context
    }

    @Test(
        "a child of the caller's traceparent keeps its trace id and sampled flag, names it as parent, passes tracestate on"
    )
    func continuesTheCaller() {
        let (tracer, processor) = tracer(.parentBasedAlwaysOn)
        let context = remote("00-\(trace)-00f067aa0ba902b7-01", tracer)
        let span = tracer.startSpan("s", context: context, ofKind: .server, at: DefaultTracerClock.now)
        #expect(span.isRecording)
        var carrier: [String: String] = [:]
        tracer.inject(span.context, into: &carrier, using: DictInjector())
        let parts = carrier["traceparent"]!.split(separator: "-")
        #expect(parts.count == 4 && parts[0] == "00" && parts[1] == trace && parts[3] == "01")
        #expect(parts[2].count == 16 && parts[2] != "00f067aa0ba902b7" && parts[2] != "0000000000000000")
        #expect(carrier["tracestate"] == "k=v")
        span.attributes["mscr.function"] = "stock"
        span.end()
        span.end()  // ending twice exports once
        #expect(processor.queuedCount == 1)
    }

    @Test(
        "an unsampled caller is not recorded or queued under parentbased; always_on records it, always_off drops a sampled one"
    )
    func samplersDecide() {
        let unsampled = "00-\(trace)-00f067aa0ba902b7-00"
        let sampled = "00-\(trace)-00f067aa0ba902b7-01"
        for (sampler, parent, recorded) in [
            (TracingConfiguration.Sampler.parentBasedAlwaysOn, unsampled, false), (.alwaysOn, unsampled, true),
            (.alwaysOff, sampled, false), (.parentBasedAlwaysOff, sampled, true),
            (.parentBasedTraceIDRatio(0), sampled, true), (.traceIDRatio(0), sampled, false),
        ] {
            let (tracer, processor) = tracer(sampler)
            let span = tracer.startSpan(
                "s", context: remote(parent, tracer), ofKind: .server, at: DefaultTracerClock.now)
            let child = tracer.startSpan("c", context: span.context, ofKind: .internal, at: DefaultTracerClock.now)
            child.end()
            span.end()
            #expect(span.isRecording == recorded, "\(sampler)")
            #expect(processor.queuedCount == (recorded ? 2 : 0), "\(sampler)")
        }
    }

    @Test("malformed traceparents are ignored: a new root trace starts")
    func malformed() {
        let (tracer, _) = tracer(.alwaysOn)
        for bad in [
            "00-\(trace)-00f067aa0ba902b7", "00-\(trace.uppercased())-00f067aa0ba902b7-01",
            "00-\(String(repeating: "0", count: 32))-00f067aa0ba902b7-01", "00-\(trace)-0000000000000000-01",
            "ff-\(trace)-00f067aa0ba902b7-01", "00-\(trace)-00f067aa0ba902b7-01-extra",
        ] {
            #expect(OTLPSpanContext(traceparent: bad, traceState: nil) == nil, "\(bad)")
            let span = tracer.startSpan("s", context: remote(bad, tracer), ofKind: .server, at: DefaultTracerClock.now)
            var carrier: [String: String] = [:]
            tracer.inject(span.context, into: &carrier, using: DictInjector())
            #expect(carrier["traceparent"]?.contains(trace) == false)
        }
        // A later version may append fields.
        #expect(OTLPSpanContext(traceparent: "01-\(trace)-00f067aa0ba902b7-01-extra", traceState: nil) != nil)
    }

    @Test(
        "traceidratio decides on the trace id's low 56 bits, matching a naive reference, and keeps about ratio of traces"
    )
    func ratio() {
        var rng = SystemRandomNumberGenerator()
        for ratio in [0.0, 0.01, 0.25, 0.5, 0.9, 1.0] {
            var kept = 0
            let n = 20_000
            for _ in 0..<n {
                let low: UInt64 = rng.next()
                let decision = TraceSampler.ratioSamples(traceIDLow: low, ratio: ratio)
                // Reference: the randomness as a fraction of 2^56 against the rejection probability.
                let fraction = Double(low & 0x00ff_ffff_ffff_ffff) / 72_057_594_037_927_936
                if abs(fraction - (1 - ratio)) > 1e-12 { #expect(decision == (fraction >= 1 - ratio)) }
                // The top byte (not randomness) does not matter.
                #expect(decision == TraceSampler.ratioSamples(traceIDLow: low ^ 0xff00_0000_0000_0000, ratio: ratio))
                if decision { kept += 1 }
            }
            let observed = Double(kept) / Double(n)
            #expect(abs(observed - ratio) < 0.02, "ratio \(ratio): kept \(observed)")
        }
    }

    @Test("a full queue drops spans instead of growing")
    func boundedQueue() {
        let (tracer, processor) = tracer(.alwaysOn, queue: 4)
        for _ in 0..<10 {
            tracer.startSpan("s", context: .topLevel, ofKind: .internal, at: DefaultTracerClock.now).end()
        }
        #expect(processor.queuedCount == 4)
    }

    @Test("the OTLP request decodes back with ids, parent, kind, status, attributes and resource")
    func encoding() throws {
        let context = OTLPSpanContext(
            traceIDHigh: 0x4bf9_2f35_77b3_4da6, traceIDLow: 0xa3ce_929d_0e0e_4736, spanID: 7, sampled: true)
        var attributes = SpanAttributes()
        attributes["s"] = "x"
        attributes["i"] = 3
        attributes["d"] = 0.5
        attributes["b"] = true
        let span = FinishedSpan(
            name: "n", kind: .server, context: context, parentSpanID: 0x00f0_67aa_0ba9_02b7, startNanoseconds: 10,
            endNanoseconds: 20, attributes: attributes, status: SpanStatus(code: .error), events: [])
        let encoder = OTLPEncoder(serviceName: "svc", resource: ["deployment.environment": "test"])
        let bytes = encoder.encode([span])
        let decoded = try Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest(serializedBytes: bytes)
        let rs = try #require(decoded.resourceSpans.first)
        let resource = Dictionary(uniqueKeysWithValues: rs.resource.attributes.map { ($0.key, $0.value.stringValue) })
        #expect(resource["service.name"] == "svc" && resource["deployment.environment"] == "test")
        let p = try #require(rs.scopeSpans.first?.spans.first)
        #expect(rs.scopeSpans.first?.scope.name == "mscr")
        let traceHex: String = p.traceID.map { (b: UInt8) -> String in
            let h = String(b, radix: 16)
            return h.count == 1 ? "0" + h : h
        }.joined()
        #expect(traceHex == trace)
        let spanID: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 7]
        let parentID: [UInt8] = [0, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]
        #expect(Array(p.spanID) == spanID)
        #expect(Array(p.parentSpanID) == parentID)
        #expect(p.kind == .server && p.status.code == .error)
        #expect(p.startTimeUnixNano == 10 && p.endTimeUnixNano == 20)
        let a = Dictionary(uniqueKeysWithValues: p.attributes.map { ($0.key, $0.value) })
        #expect(a["s"]?.stringValue == "x")
        #expect(a["i"]?.intValue == 3)
        #expect(a["d"]?.doubleValue == 0.5)
        #expect(a["b"]?.boolValue == true)
    }
}

struct DictExtractor: Extractor {
    func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
}

struct DictInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
}

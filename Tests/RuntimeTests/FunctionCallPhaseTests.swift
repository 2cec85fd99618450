import FoundationEssentials
import Functions
import Runtime
import SwiftProtobuf
import Testing
import Tracing

/// A server span of ``OTLPTracer`` as its request's ``FunctionCallTrace``: the phases of a
/// function call recorded on it as values export as its children, with the bytes a child span
/// started through the tracer API would have (ids aside), decoded by swift-protobuf.
@Suite struct FunctionCallPhaseTests {
    typealias Request = OTLPBatchTests.Request
    typealias ProtoSpan = OTLPBatchTests.ProtoSpan

    func exported(_ processor: OTLPBatchProcessor) throws -> [ProtoSpan] {
        try processor.takeQueuedRequests().flatMap { bytes in
            try Request(serializedBytes: bytes).resourceSpans.flatMap(\.scopeSpans).flatMap(\.spans)
        }
    }

    /// The same span through the tracer API: a child of `parent` with the function's fields and,
    /// when `error` is given, the error recorded.
    func apiChild(
        _ tracer: OTLPTracer, of parent: OTLPSpan, _ phase: FunctionCallPhase
    ) -> OTLPSpan {
        let span = tracer.startSpan(
            phase.name, context: parent.context, ofKind: .internal,
            at: DefaultTracerClock.Instant(nanosecondsSinceEpoch: phase.startNanoseconds))
        span.recordFunction(phase.function, model: phase.model, version: phase.version, cold: phase.cold)
        if let error = phase.error {
            span.recordError(
                error, attributes: [:], at: DefaultTracerClock.Instant(nanosecondsSinceEpoch: phase.endNanoseconds))
            span.setStatus(SpanStatus(code: .error))
        }
        span.end(at: DefaultTracerClock.Instant(nanosecondsSinceEpoch: phase.endNanoseconds))
        return span
    }

    /// A span without its ids, to compare.
    func withoutIDs(_ span: ProtoSpan) -> ProtoSpan {
        var span = span
        span.spanID = Data()
        return span
    }

    @Test("phases recorded on an open server span export with it as its children, equal to spans of the tracer API")
    func phasesAreChildren() throws {
        let (tracer, processor) = testTracer(queue: 16)
        let server = tracer.startSpan("POST /functions/{name}", context: .topLevel, ofKind: .server)
        let trace = try #require(server.context[FunctionCallTraceKey.self], "a server span is the request's trace")
        #expect(trace.isRecording)
        let now = DefaultTracerClock.now.nanosecondsSinceEpoch
        let phases = [
            FunctionCallPhase(
                name: "queue wait", startNanoseconds: now, endNanoseconds: now + 1_000, function: "stock",
                model: "stock-lstm"),
            FunctionCallPhase(
                name: "inference", startNanoseconds: now + 1_000, endNanoseconds: now + 50_000, function: "stock",
                model: "stock-lstm", version: 3, cold: false,
                error: FunctionError(.invalidInput, "the window needs 60 rows")),
        ]
        for phase in phases { trace.record(phase) }
        #expect(processor.queuedCount == 0, "nothing is exported before the server span ends")
        server.end()
        let spans = try exported(processor)
        #expect(spans.map(\.name) == ["POST /functions/{name}", "queue wait", "inference"])
        let root = spans[0]
        let ids = Set(spans.map(\.spanID))
        #expect(ids.count == 3 && !ids.contains(Data(count: 8)), "distinct, non-zero span ids")
        for child in spans.dropFirst() {
            #expect(child.parentSpanID == root.spanID && child.traceID == root.traceID)
        }
        // The same phases as spans of the tracer API, under a second server span.
        let other = tracer.startSpan("POST /functions/{name}", context: .topLevel, ofKind: .server)
        for phase in phases { _ = apiChild(tracer, of: other, phase) }
        other.end()
        let api = try exported(processor)
        #expect(api.map(\.name) == ["queue wait", "inference", "POST /functions/{name}"])
        for (recorded, viaAPI) in zip(spans.dropFirst(), api.prefix(2)) {
            var expected = withoutIDs(viaAPI)
            expected.traceID = recorded.traceID
            expected.parentSpanID = recorded.parentSpanID
            #expect(withoutIDs(recorded) == expected)
        }
        #expect(spans[2].status.code == .error && spans[2].events.map(\.name) == ["exception"])
    }

    @Test("a server span takes mscr.cold from its call's phases, unless the transport set it")
    func coldFromPhases() throws {
        let (tracer, processor) = testTracer(queue: 16)
        func rootCold(inference cold: Bool?, set: Bool?) throws -> Bool? {
            let server = tracer.startSpan("POST /functions/{name}", context: .topLevel, ofKind: .server)
            if let set { server.record(RequestAttributes(cold: set)) }
            let trace = try #require(server.context[FunctionCallTraceKey.self])
            let now = DefaultTracerClock.now.nanosecondsSinceEpoch
            trace.record(
                FunctionCallPhase(
                    name: "queue wait", startNanoseconds: now, endNanoseconds: now + 1, function: "f", model: "m"))
            trace.record(
                FunctionCallPhase(
                    name: "inference", startNanoseconds: now + 1, endNanoseconds: now + 2, function: "f", model: "m",
                    cold: cold))
            server.end()
            let root = try #require(exported(processor).first { $0.kind == .server })
            return root.attributes.first { $0.key == "mscr.cold" }.map(\.value.boolValue)
        }
        #expect(try rootCold(inference: true, set: nil) == true)
        #expect(try rootCold(inference: false, set: nil) == false)
        #expect(try rootCold(inference: nil, set: nil) == nil)
        #expect(try rootCold(inference: true, set: false) == false)
    }

    @Test(
        "spans started in a server span's context (one entry, the trace) name the innermost span as parent, past a caller's span and across nested server spans"
    )
    func parentChain() throws {
        let (tracer, processor) = testTracer(queue: 16)
        var caller = ServiceContext.topLevel
        tracer.extract(
            ["traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"], into: &caller,
            using: DictExtractor())
        let server = tracer.startSpan("server", context: caller, ofKind: .server)
        #expect(server.context.count == 1, "the caller's entry is replaced by the server span")
        let child = tracer.startSpan("child", context: server.context, ofKind: .internal)
        let grandchild = tracer.startSpan("grandchild", context: child.context, ofKind: .internal)
        let nested = tracer.startSpan("nested server", context: grandchild.context, ofKind: .server)
        let last = tracer.startSpan("last", context: nested.context, ofKind: .internal)
        for span in [last, nested, grandchild, child, server] { span.end() }
        let spans = Dictionary(uniqueKeysWithValues: try exported(processor).map { ($0.name, $0) })
        func id(_ hex: String) -> Data {
            Data(stride(from: 0, to: 16, by: 2).map { UInt8(hex.dropFirst($0).prefix(2), radix: 16)! })
        }
        #expect(spans["server"]?.parentSpanID == id("00f067aa0ba902b7"))
        #expect(spans["child"]?.parentSpanID == spans["server"]?.spanID)
        #expect(spans["grandchild"]?.parentSpanID == spans["child"]?.spanID)
        #expect(spans["nested server"]?.parentSpanID == spans["grandchild"]?.spanID)
        #expect(spans["last"]?.parentSpanID == spans["nested server"]?.spanID)
        #expect(Set(spans.values.map(\.traceID)).count == 1)
        // The request's trace below the nested server span is the nested one.
        let trace = try #require(last.context[FunctionCallTraceKey.self] as? OTLPSpan)
        #expect(trace === nested)
    }

    @Test("a phase that ends after its server span is exported alone, still its child")
    func latePhase() throws {
        let (tracer, processor) = testTracer(queue: 16)
        let server = tracer.startSpan("POST /functions/{name}", context: .topLevel, ofKind: .server)
        let trace = try #require(server.context[FunctionCallTraceKey.self])
        server.end()
        #expect(processor.queuedCount == 1)
        let now = DefaultTracerClock.now.nanosecondsSinceEpoch
        trace.record(
            FunctionCallPhase(
                name: "inference", startNanoseconds: now, endNanoseconds: now + 10, function: "f", model: "m"))
        let spans = try exported(processor)
        #expect(spans.map(\.name) == ["POST /functions/{name}", "inference"])
        #expect(spans[1].parentSpanID == spans[0].spanID && spans[1].spanID != spans[0].spanID)
    }

    @Test("an unsampled server span is a trace that records nothing; other spans are no trace")
    func unsampledAndInternal() throws {
        let (tracer, processor) = testTracer(.alwaysOff, queue: 16)
        let server = tracer.startSpan("GET /", context: .topLevel, ofKind: .server)
        let trace = try #require(server.context[FunctionCallTraceKey.self])
        #expect(!trace.isRecording)
        trace.record(FunctionCallPhase(name: "inference", startNanoseconds: 1, function: "f", model: "m"))
        server.end()
        #expect(processor.queuedCount == 0)
        let (onTracer, _) = testTracer(queue: 4)
        let child = onTracer.startSpan("encode", context: .topLevel, ofKind: .internal)
        #expect(child.context[FunctionCallTraceKey.self] == nil)
    }
}

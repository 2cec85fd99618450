import FoundationEssentials
import Runtime
import SwiftProtobuf
import Testing
import Tracing

/// The hand-written OTLP encoder against an independent implementation: the same spans built
/// as swift-protobuf's generated messages (the encoder the exporter used before) and
/// serialized by swift-protobuf must give the same bytes, and decode back to the same message.
@Suite struct OTLPEncoderTests {
    @Test("every span field, attribute type, event and status encodes byte-equal to swift-protobuf's serialization")
    func byteEqualToSwiftProtobuf() throws {
        let encoder = OTLPEncoder(serviceName: "svc", resource: ["deployment.environment": "test", "k": "v"])
        let spans = Self.spans()
        for count in [0, 1, 2, spans.count] {
            let batch = Array(spans.prefix(count))
            let ours = encoder.encode(batch)
            let reference: [UInt8] = try ReferenceEncoder.request(
                batch, serviceName: "svc", resource: ["deployment.environment": "test", "k": "v"]
            ).serializedBytes()
            #expect(ours == reference, "\(count) spans")
            let decoded = try Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest(serializedBytes: ours)
            #expect(decoded.resourceSpans.first?.scopeSpans.first?.spans.count == count)
        }
    }

    @Test("lengths past one varint byte (long names, many spans) are widened correctly")
    func longMessages() throws {
        let encoder = OTLPEncoder(serviceName: String(repeating: "s", count: 300), resource: [:])
        var span = Self.spans()[0]
        span.name = String(repeating: "n", count: 20_000)
        span.attributes["long"] = SpanAttribute.string(String(repeating: "é", count: 200))
        let batch = Array(repeating: span, count: 600)
        let reference: [UInt8] = try ReferenceEncoder.request(
            batch, serviceName: String(repeating: "s", count: 300), resource: [:]
        ).serializedBytes()
        #expect(encoder.encode(batch) == reference)
    }

    /// Spans covering every field and every attribute case, with random ids and times.
    static func spans() -> [FinishedSpan] {
        var rng = SystemRandomNumberGenerator()
        var out: [FinishedSpan] = []
        let kinds: [SpanKind] = [.server, .client, .producer, .consumer, .internal]
        for i in 0..<12 {
            var a = SpanAttributes()
            a["s"] = "x"
            a["empty"] = ""
            a["i"] = SpanAttribute.int64(-3)
            a["i32"] = SpanAttribute.int32(Int32(i) - 6)
            a["big"] = SpanAttribute.int64(Int64.max)
            a["d"] = 0.5
            a["dneg"] = SpanAttribute.double(-1e300)
            a["b"] = true
            a["f"] = false
            a["ia"] = SpanAttribute.int64Array([1, -2, 3])
            a["i32a"] = SpanAttribute.int32Array([])
            a["da"] = SpanAttribute.doubleArray([0.25, 2])
            a["ba"] = SpanAttribute.boolArray([true, false])
            a["sa"] = SpanAttribute.stringArray(["a", "", "ü"])
            a["conv"] = SpanAttribute.stringConvertible(i)
            a["conva"] = SpanAttribute.stringConvertibleArray([1, 2])
            let context = OTLPSpanContext(
                traceIDHigh: rng.next(), traceIDLow: rng.next(), spanID: rng.next() | 1, sampled: i % 3 != 0,
                traceState: i % 2 == 0 ? "k=v,x=y" : (i % 4 == 1 ? "" : nil))
            let events =
                i % 2 == 0
                ? [
                    SpanEvent(name: "exception", at: DefaultTracerClock.now, attributes: ["exception.type": "E"]),
                    SpanEvent(name: "", at: DefaultTracerClock.Instant(nanosecondsSinceEpoch: 0), attributes: [:]),
                ] : []
            let status: SpanStatus? =
                switch i % 4 {
                case 0: nil
                case 1: SpanStatus(code: .ok)
                case 2: SpanStatus(code: .error, message: "failed")
                default: SpanStatus(code: .error, message: "")
                }
            let start: UInt64 = i == 5 ? 0 : rng.next() >> 1
            out.append(
                FinishedSpan(
                    name: i == 7 ? "" : "GET /v2/models/stock/infer \(i)", kind: kinds[i % kinds.count],
                    context: context, parentSpanID: i % 3 == 0 ? 0 : rng.next(), startNanoseconds: start,
                    endNanoseconds: i == 5 ? 0 : start + UInt64(i) * 1000, attributes: i == 9 ? [:] : a,
                    status: status, events: events))
        }
        return out
    }
}

/// The encoder the exporter used until session 8: swift-protobuf messages, serialized.
enum ReferenceEncoder {
    static func request(_ spans: [FinishedSpan], serviceName: String, resource attributes: [String: String])
        -> Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest
    {
        var all = attributes
        all["service.name"] = serviceName
        all["telemetry.sdk.language"] = "swift"
        all["telemetry.sdk.name"] = "mscr"
        var resource = Opentelemetry_Proto_Resource_V1_Resource()
        resource.attributes = all.sorted { $0.key < $1.key }.map { keyValue($0.key, .string($0.value)) }
        var scope = Opentelemetry_Proto_Common_V1_InstrumentationScope()
        scope.name = "mscr"
        var scopeSpans = Opentelemetry_Proto_Trace_V1_ScopeSpans()
        scopeSpans.scope = scope
        scopeSpans.spans = spans.map(span)
        var resourceSpans = Opentelemetry_Proto_Trace_V1_ResourceSpans()
        resourceSpans.resource = resource
        resourceSpans.scopeSpans = [scopeSpans]
        var request = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest()
        request.resourceSpans = [resourceSpans]
        return request
    }

    static func span(_ s: FinishedSpan) -> Opentelemetry_Proto_Trace_V1_Span {
        var p = Opentelemetry_Proto_Trace_V1_Span()
        p.traceID = bytes(s.context.traceIDHigh) + bytes(s.context.traceIDLow)
        p.spanID = bytes(s.context.spanID)
        if s.parentSpanID != 0 { p.parentSpanID = bytes(s.parentSpanID) }
        if let state = s.context.traceState { p.traceState = state }
        p.flags = s.context.sampled ? 1 : 0
        p.name = s.name
        p.kind =
            switch s.kind {
            case .server: .server
            case .client: .client
            case .producer: .producer
            case .consumer: .consumer
            case .internal: .internal
            }
        p.startTimeUnixNano = s.startNanoseconds
        p.endTimeUnixNano = s.endNanoseconds
        p.attributes = attributes(s.attributes)
        p.events = s.events.map { e in
            var event = Opentelemetry_Proto_Trace_V1_Span.Event()
            event.name = e.name
            event.timeUnixNano = e.nanosecondsSinceEpoch
            event.attributes = attributes(e.attributes)
            return event
        }
        if let status = s.status {
            var st = Opentelemetry_Proto_Trace_V1_Status()
            st.code = status.code == .ok ? .ok : .error
            if let message = status.message { st.message = message }
            p.status = st
        }
        return p
    }

    static func bytes(_ value: UInt64) -> Data { withUnsafeBytes(of: value.bigEndian) { Data($0) } }

    static func attributes(_ attributes: SpanAttributes) -> [Opentelemetry_Proto_Common_V1_KeyValue] {
        var out: [Opentelemetry_Proto_Common_V1_KeyValue] = []
        attributes.forEach { key, value in out.append(keyValue(key, value)) }
        return out
    }

    static func keyValue(_ key: String, _ value: SpanAttribute) -> Opentelemetry_Proto_Common_V1_KeyValue {
        var kv = Opentelemetry_Proto_Common_V1_KeyValue()
        kv.key = key
        kv.value = anyValue(value)
        return kv
    }

    static func anyValue(_ value: SpanAttribute) -> Opentelemetry_Proto_Common_V1_AnyValue {
        var v = Opentelemetry_Proto_Common_V1_AnyValue()
        func array(_ values: [Opentelemetry_Proto_Common_V1_AnyValue]) {
            var a = Opentelemetry_Proto_Common_V1_ArrayValue()
            a.values = values
            v.arrayValue = a
        }
        switch value {
        case .int32(let i): v.intValue = Int64(i)
        case .int64(let i): v.intValue = i
        case .double(let d): v.doubleValue = d
        case .bool(let b): v.boolValue = b
        case .string(let s): v.stringValue = s
        case .stringConvertible(let s): v.stringValue = s.description
        case .int32Array(let a): array(a.map { anyValue(.int64(Int64($0))) })
        case .int64Array(let a): array(a.map { anyValue(.int64($0)) })
        case .doubleArray(let a): array(a.map { anyValue(.double($0)) })
        case .boolArray(let a): array(a.map { anyValue(.bool($0)) })
        case .stringArray(let a): array(a.map { anyValue(.string($0)) })
        case .stringConvertibleArray(let a): array(a.map { anyValue(.string($0.description)) })
        default: v.stringValue = "\(value)"
        }
        return v
    }
}

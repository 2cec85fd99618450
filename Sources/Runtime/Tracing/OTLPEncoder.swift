import FoundationEssentials
import Tracing

/// Spans as an OTLP `ExportTraceServiceRequest`: one resource (`service.name` and
/// `OTEL_RESOURCE_ATTRIBUTES`), one instrumentation scope (`mscr`).
package struct OTLPEncoder: Sendable {
    let resource: Opentelemetry_Proto_Resource_V1_Resource
    let scope: Opentelemetry_Proto_Common_V1_InstrumentationScope

    package init(serviceName: String, resource attributes: [String: String]) {
        var all = attributes
        all["service.name"] = serviceName
        all["telemetry.sdk.language"] = "swift"
        all["telemetry.sdk.name"] = "mscr"
        var resource = Opentelemetry_Proto_Resource_V1_Resource()
        resource.attributes = all.sorted { $0.key < $1.key }.map { Self.keyValue($0.key, .string($0.value)) }
        self.resource = resource
        var scope = Opentelemetry_Proto_Common_V1_InstrumentationScope()
        scope.name = "mscr"
        self.scope = scope
    }

    package func request(_ spans: [FinishedSpan]) -> Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest {
        var scopeSpans = Opentelemetry_Proto_Trace_V1_ScopeSpans()
        scopeSpans.scope = scope
        scopeSpans.spans = spans.map(Self.span)
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
        p.kind = kind(s.kind)
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

    static func kind(_ kind: SpanKind) -> Opentelemetry_Proto_Trace_V1_Span.SpanKind {
        switch kind {
        case .server: return .server
        case .client: return .client
        case .producer: return .producer
        case .consumer: return .consumer
        case .internal: return .internal
        }
    }

    static func bytes(_ value: UInt64) -> Data {
        withUnsafeBytes(of: value.bigEndian) { Data($0) }
    }

    static func attributes(_ attributes: SpanAttributes) -> [Opentelemetry_Proto_Common_V1_KeyValue] {
        var out: [Opentelemetry_Proto_Common_V1_KeyValue] = []
        attributes.forEach { key, value in out.append(keyValue(key, value)) }
        return out.sorted { $0.key < $1.key }
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

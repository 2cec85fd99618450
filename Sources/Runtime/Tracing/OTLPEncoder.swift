import Tracing

/// Spans as the protobuf bytes of an OTLP `ExportTraceServiceRequest`: one resource
/// (`service.name` and `OTEL_RESOURCE_ATTRIBUTES`), one instrumentation scope (`mscr`).
///
/// Written straight to the wire format rather than built as swift-protobuf messages and
/// serialized: with every request sampled that path (a message per span, attribute and value,
/// then a generic visitor over them) was most of the exporter's CPU. The bytes are the ones
/// swift-protobuf writes for the same messages (fields in number order, proto3 defaults left
/// out, attributes in the span's order); `OTLPEncoderTests` checks that on every field.
///
/// A span is encoded once, when it ends, straight into the batch it is queued in (as a
/// `ScopeSpans.spans` field, ``ProtobufWriter/spanField(_:)``); the export thread only frames a
/// batch's bytes (``encode(spanFields:into:)``), into a buffer it reuses.
package struct OTLPEncoder: Sendable {
    /// The encoded `Resource` and `InstrumentationScope` messages, the same in every request.
    let resource: [UInt8]
    let scope: [UInt8]

    package init(serviceName: String, resource attributes: [String: String]) {
        var all = attributes
        all["service.name"] = serviceName
        all["telemetry.sdk.language"] = "swift"
        all["telemetry.sdk.name"] = "mscr"
        var resource = ProtobufWriter()
        for (key, value) in all.sorted(by: { $0.key < $1.key }) {
            resource.message(1) { $0.keyValue(key, .string(value)) }
        }
        self.resource = resource.bytes
        var scope = ProtobufWriter()
        scope.string(1, "mscr")
        self.scope = scope.bytes
    }

    /// The request's bytes.
    package func encode(_ spans: [FinishedSpan]) -> [UInt8] {
        var out: [UInt8] = []
        encode(spanFields: Self.spanFields(spans), into: &out)
        return out
    }

    /// `spans` as `ScopeSpans.spans` fields, one after the other (as a batch holds them);
    /// `fastPath: false` skips ``SpanFieldWriter`` (tests compare the two).
    package static func spanFields(_ spans: [FinishedSpan], fastPath: Bool = true) -> [UInt8] {
        var fields = ProtobufWriter()
        for span in spans {
            if fastPath { fields.spanField(span) } else { fields.spanFieldSlow(span) }
        }
        return fields.bytes
    }

    /// Replaces `out` with the request's bytes, from spans already encoded as `ScopeSpans.spans`
    /// fields (``ProtobufWriter/spanField(_:)``), keeping `out`'s storage. The lengths are known
    /// up front, so the spans are copied once.
    package func encode(spanFields: [UInt8], into out: inout [UInt8]) {
        var w = ProtobufWriter()
        swap(&w.bytes, &out)
        w.bytes.removeAll(keepingCapacity: true)
        let scopeSpans = 1 + ProtobufWriter.varintSize(scope.count) + scope.count + spanFields.count
        let resourceSpans =
            1 + ProtobufWriter.varintSize(resource.count) + resource.count + 1
            + ProtobufWriter.varintSize(scopeSpans) + scopeSpans
        w.bytes.reserveCapacity(resourceSpans + 8)
        w.tag(1, 2)  // ExportTraceServiceRequest.resource_spans
        w.varint(UInt64(resourceSpans))
        w.bytesField(1, resource)  // ResourceSpans.resource
        w.tag(2, 2)  // ResourceSpans.scope_spans
        w.varint(UInt64(scopeSpans))
        w.bytesField(1, scope)  // ScopeSpans.scope
        w.bytes.append(contentsOf: spanFields)  // ScopeSpans.spans
        swap(&w.bytes, &out)
    }
}

/// Protobuf wire-format output (https://protobuf.dev/programming-guides/encoding/) for the
/// OTLP trace messages. A nested message is written in place after a one-byte length that is
/// widened afterwards when the message is longer than 127 bytes.
struct ProtobufWriter {
    var bytes: [UInt8] = []

    /// The bytes of `value` as a varint.
    static func varintSize(_ value: Int) -> Int { varintSize(UInt64(value)) }

    /// The bytes of `value` as a varint.
    static func varintSize(_ value: UInt64) -> Int {
        var n = 1
        var v = value
        while v >= 0x80 {
            v >>= 7
            n += 1
        }
        return n
    }

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func tag(_ field: Int, _ wireType: UInt64) { varint(UInt64(field) << 3 | wireType) }

    mutating func string(_ field: Int, _ value: String) {
        tag(field, 2)
        var value = value
        value.withUTF8 { utf8 in
            varint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    mutating func bytesField(_ field: Int, _ value: [UInt8]) {
        tag(field, 2)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// An 8-byte id (trace id halves, span ids) big-endian, as OTLP's `bytes` fields hold them.
    mutating func id(_ value: UInt64) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func fixed64(_ field: Int, _ value: UInt64) {
        tag(field, 1)
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func message(_ field: Int, _ body: (inout ProtobufWriter) -> Void) {
        tag(field, 2)
        let start = bytes.count
        bytes.append(0)
        body(&self)
        let length = bytes.count - start - 1
        if length < 0x80 {
            bytes[start] = UInt8(length)
            return
        }
        // A longer length (every span): the body moves up in place, no temporary array.
        let size = Self.varintSize(length)
        bytes.insert(contentsOf: repeatElement(0, count: size - 1), at: start + 1)
        var v = UInt64(length)
        for i in start..<start + size - 1 {
            bytes[i] = UInt8(truncatingIfNeeded: v) | 0x80
            v >>= 7
        }
        bytes[start + size - 1] = UInt8(v)
    }

    /// A `ScopeSpans.spans` field: the span's tag, length and message.
    mutating func spanField(_ s: FinishedSpan) { Self.appendSpanField(s, to: &bytes) }

    /// ``spanField(_:)`` onto `bytes` (a batch's).
    static func appendSpanField(_ s: FinishedSpan, to bytes: inout [UInt8]) {
        if SpanFieldWriter.append(s, to: &bytes) { return }
        var w = ProtobufWriter()
        swap(&w.bytes, &bytes)
        w.message(2) { $0.span(s) }
        swap(&w.bytes, &bytes)
    }

    /// ``spanField(_:)`` without ``SpanFieldWriter``'s fast path (tests compare the two).
    mutating func spanFieldSlow(_ s: FinishedSpan) { message(2) { $0.span(s) } }

    /// `opentelemetry.proto.trace.v1.Span`.
    mutating func span(_ s: FinishedSpan) {
        tag(1, 2)
        bytes.append(16)
        id(s.context.traceIDHigh)
        id(s.context.traceIDLow)
        tag(2, 2)
        bytes.append(8)
        id(s.context.spanID)
        if let state = s.context.traceState, !state.isEmpty { string(3, state) }
        if s.parentSpanID != 0 {
            tag(4, 2)
            bytes.append(8)
            id(s.parentSpanID)
        }
        let name = s.exportedName
        if !name.isEmpty { string(5, name) }
        tag(6, 0)
        varint(Self.kind(s.kind))
        if s.startNanoseconds != 0 { fixed64(7, s.startNanoseconds) }
        if s.endNanoseconds != 0 { fixed64(8, s.endNanoseconds) }
        requestAttributes(s.known)
        attributes(9, s.attributes)
        for event in s.events {
            message(11) { e in
                if event.nanosecondsSinceEpoch != 0 { e.fixed64(1, event.nanosecondsSinceEpoch) }
                if !event.name.isEmpty { e.string(2, event.name) }
                e.attributes(3, event.attributes)
            }
        }
        if let status = s.status {
            message(15) { st in
                if let text = status.message, !text.isEmpty { st.string(2, text) }
                st.tag(3, 0)
                st.varint(status.code == .ok ? 1 : 2)
            }
        }
        if s.context.sampled {
            tag(16, 5)  // flags, fixed32
            bytes.append(contentsOf: [1, 0, 0, 0])
        }
    }

    /// Repeated `KeyValue`s in key order.
    /// In the attributes' own order (OTLP gives a key-value list no order; sorting them cost
    /// a copy and string comparisons per span on the export thread).
    mutating func attributes(_ field: Int, _ attributes: SpanAttributes) {
        attributes.forEach { key, value in message(field) { $0.keyValue(key, value) } }
    }

    mutating func keyValue(_ key: String, _ value: SpanAttribute) {
        if !key.isEmpty { string(1, key) }
        message(2) { $0.anyValue(value) }
    }

    /// `AnyValue`'s one-of: the chosen field is written even when it holds its default.
    mutating func anyValue(_ value: SpanAttribute) {
        func array(_ values: [SpanAttribute]) {
            message(5) { a in for v in values { a.message(1) { $0.anyValue(v) } } }
        }
        switch value {
        case .int32(let i): int(Int64(i))
        case .int64(let i): int(i)
        case .double(let d): fixed64(4, d.bitPattern)
        case .bool(let b):
            tag(2, 0)
            bytes.append(b ? 1 : 0)
        case .string(let s): string(1, s)
        case .stringConvertible(let s): string(1, s.description)
        case .int32Array(let a): array(a.map { .int64(Int64($0)) })
        case .int64Array(let a): array(a.map { .int64($0) })
        case .doubleArray(let a): array(a.map { .double($0) })
        case .boolArray(let a): array(a.map { .bool($0) })
        case .stringArray(let a): array(a.map { .string($0) })
        case .stringConvertibleArray(let a): array(a.map { .string($0.description) })
        default: string(1, "\(value)")
        }
    }

    private mutating func int(_ value: Int64) {
        tag(3, 0)
        varint(UInt64(bitPattern: value))
    }

    static func kind(_ kind: SpanKind) -> UInt64 {
        switch kind {
        case .internal: return 1
        case .server: return 2
        case .client: return 3
        case .producer: return 4
        case .consumer: return 5
        }
    }
}

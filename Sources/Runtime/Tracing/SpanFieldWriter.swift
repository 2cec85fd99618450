import Functions
import Tracing

/// The fast path of ``ProtobufWriter/spanField(_:)``: a span whose attributes are all
/// ``RequestAttributes`` fields and that has no events (every span of a request that did not
/// throw) is sized first, then written through one pointer, with no capacity or uniqueness
/// check per byte. The bytes are those of ``ProtobufWriter/span(_:)`` (`OTLPBatchTests` and
/// `OTLPEncoderTests` compare them); any other span takes that path.
struct SpanFieldWriter {
    private var p: UnsafeMutablePointer<UInt8>

    /// Appends `s` to `bytes` as a `ScopeSpans.spans` field; false (nothing appended) when `s`
    /// has dictionary attributes or events.
    static func append(_ s: FinishedSpan, to bytes: inout [UInt8]) -> Bool {
        guard s.attributes.isEmpty, s.events.isEmpty else { return false }
        let size = spanSize(s)
        let total = 1 + ProtobufWriter.varintSize(size) + size
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: total))
        bytes.withUnsafeMutableBufferPointer { buffer in
            var w = SpanFieldWriter(p: buffer.baseAddress! + start)
            w.byte(0x12)  // ScopeSpans.spans
            w.varint(UInt64(size))
            w.span(s)
            assert(w.p == buffer.baseAddress! + start + total)
        }
        return true
    }

    // MARK: Sizes

    private static func stringSize(_ s: String) -> Int {
        let n = s.utf8.count
        return ProtobufWriter.varintSize(n) + n
    }

    /// A `Span.attributes` key-value with its tag and length.
    private static func keyValueSize(_ key: String, anyValue: Int) -> Int {
        let kv = 1 + stringSize(key) + 1 + ProtobufWriter.varintSize(anyValue) + anyValue
        return 1 + ProtobufWriter.varintSize(kv) + kv
    }

    private static func spanSize(_ s: FinishedSpan) -> Int {
        var n = 18 + 10 + 2  // trace_id, span_id, kind
        if let state = s.context.traceState, !state.isEmpty { n += 1 + stringSize(state) }
        if s.parentSpanID != 0 { n += 10 }
        if !s.name.isEmpty { n += 1 + stringSize(s.name) }
        if s.startNanoseconds != 0 { n += 9 }
        if s.endNanoseconds != 0 { n += 9 }
        s.known.forEachField { key, value in
            let any: Int
            switch value {
            case .string(let v): any = 1 + stringSize(v)
            case .int(let v): any = 1 + ProtobufWriter.varintSize(v)
            case .bool: any = 2
            }
            n += keyValueSize(key, anyValue: any)
        }
        if let status = s.status {
            var body = 2
            if let text = status.message, !text.isEmpty { body += 1 + stringSize(text) }
            n += 1 + ProtobufWriter.varintSize(body) + body
        }
        if s.context.sampled { n += 6 }  // flags: a 2-byte tag and a fixed32
        return n
    }

    // MARK: Writing, in ProtobufWriter.span's order

    private mutating func span(_ s: FinishedSpan) {
        byte(0x0A)  // trace_id
        byte(16)
        id(s.context.traceIDHigh)
        id(s.context.traceIDLow)
        byte(0x12)  // span_id
        byte(8)
        id(s.context.spanID)
        if let state = s.context.traceState, !state.isEmpty { string(0x1A, state) }
        if s.parentSpanID != 0 {
            byte(0x22)  // parent_span_id
            byte(8)
            id(s.parentSpanID)
        }
        if !s.name.isEmpty { string(0x2A, s.name) }
        byte(0x30)  // kind
        byte(UInt8(ProtobufWriter.kind(s.kind)))
        if s.startNanoseconds != 0 { fixed64(0x39, s.startNanoseconds) }
        if s.endNanoseconds != 0 { fixed64(0x41, s.endNanoseconds) }
        s.known.forEachField { key, value in
            let any: Int
            switch value {
            case .string(let v): any = 1 + Self.stringSize(v)
            case .int(let v): any = 1 + ProtobufWriter.varintSize(v)
            case .bool: any = 2
            }
            let kv = 1 + Self.stringSize(key) + 1 + ProtobufWriter.varintSize(any) + any
            byte(0x4A)  // Span.attributes
            varint(UInt64(kv))
            string(0x0A, key)  // KeyValue.key
            byte(0x12)  // KeyValue.value
            varint(UInt64(any))
            switch value {
            case .string(let v): string(0x0A, v)  // AnyValue.string_value
            case .int(let v):
                byte(0x18)  // AnyValue.int_value
                varint(v)
            case .bool(let v):
                byte(0x10)  // AnyValue.bool_value
                byte(v ? 1 : 0)
            }
        }
        if let status = s.status {
            let text = status.message.flatMap { $0.isEmpty ? nil : $0 }
            byte(0x7A)  // status
            varint(UInt64(2 + (text.map { 1 + Self.stringSize($0) } ?? 0)))
            if let text { string(0x12, text) }
            byte(0x18)
            byte(status.code == .ok ? 1 : 2)
        }
        if s.context.sampled {
            byte(0x85)  // flags (field 16, fixed32)
            byte(0x01)
            byte(1)
            byte(0)
            byte(0)
            byte(0)
        }
    }

    private mutating func byte(_ b: UInt8) {
        p.pointee = b
        p += 1
    }

    private mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            byte(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        byte(UInt8(v))
    }

    /// A string field: `tag` (one byte), the length and the UTF-8 bytes.
    private mutating func string(_ tag: UInt8, _ value: String) {
        byte(tag)
        var value = value
        value.withUTF8 { utf8 in
            varint(UInt64(utf8.count))
            if let base = utf8.baseAddress { p.update(from: base, count: utf8.count) }
            p += utf8.count
        }
    }

    private mutating func id(_ value: UInt64) {
        UnsafeMutableRawPointer(p).storeBytes(of: value.bigEndian, as: UInt64.self)
        p += 8
    }

    private mutating func fixed64(_ tag: UInt8, _ value: UInt64) {
        byte(tag)
        UnsafeMutableRawPointer(p).storeBytes(of: value.littleEndian, as: UInt64.self)
        p += 8
    }
}

extension RequestAttributes {
    /// A field's value as encoded.
    enum FieldValue {
        case string(String)
        case int(UInt64)
        case bool(Bool)
    }

    /// Calls `body` with each set field's key and value, in ``forEach(_:)``'s order.
    func forEachField(_ body: (String, FieldValue) -> Void) {
        if let method { body("http.request.method", .string(method)) }
        if let path { body("url.path", .string(path)) }
        if let route { body("http.route", .string(route)) }
        if let status { body("http.response.status_code", .int(UInt64(bitPattern: Int64(status)))) }
        if let rpcService {
            body("rpc.system", .string("grpc"))
            body("rpc.service", .string(rpcService))
        }
        if let rpcMethod { body("rpc.method", .string(rpcMethod)) }
        if let grpcStatus { body("rpc.grpc.status_code", .int(UInt64(bitPattern: Int64(grpcStatus)))) }
        if let function { body(FunctionSpans.functionKey, .string(function)) }
        if let model { body(FunctionSpans.modelKey, .string(model)) }
        if let version { body(FunctionSpans.versionKey, .int(UInt64(bitPattern: Int64(version)))) }
        if let cold { body(FunctionSpans.coldKey, .bool(cold)) }
    }
}

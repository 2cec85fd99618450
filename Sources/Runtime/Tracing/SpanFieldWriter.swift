import Functions
import Tracing

/// The fast path of ``ProtobufWriter/spanField(_:)``: a span whose attributes are all
/// ``RequestAttributes`` fields and that has no events (every span of a request that did not
/// throw) is sized first, then written through one pointer, with no capacity or uniqueness
/// check per byte, the attribute keys copied from constant bytes. A function call's phase is
/// written straight from its ``FunctionCallPhase`` (no ``FinishedSpan`` built). The bytes are
/// those of ``ProtobufWriter/span(_:)`` (`OTLPBatchTests` and `OTLPEncoderTests` compare them);
/// any other span takes that path.
struct SpanFieldWriter {
    private typealias Key = RequestAttributes.Key
    private var p: UnsafeMutablePointer<UInt8>

    /// Appends `s` to `bytes` as a `ScopeSpans.spans` field; false (nothing appended) when `s`
    /// has dictionary attributes or events.
    static func append(_ s: FinishedSpan, to bytes: inout [UInt8]) -> Bool {
        guard s.attributes.isEmpty, s.events.isEmpty else { return false }
        let c = s.context
        let head = Head(
            traceIDHigh: c.traceIDHigh, traceIDLow: c.traceIDLow, spanID: c.spanID, parentSpanID: s.parentSpanID,
            kind: UInt8(ProtobufWriter.kind(s.kind)), startNanoseconds: s.startNanoseconds,
            endNanoseconds: s.endNanoseconds, sampled: c.sampled)
        let k = s.known
        append(
            head, traceState: c.traceState, name: s.name, nameSuffix: s.nameSuffix, known: k,
            function: k.function, model: k.model, version: k.version, cold: k.cold, status: s.status, to: &bytes)
        return true
    }

    /// Appends the child span `phase` is of the span `parent` (``OTLPSpan/finished(_:number:)``'s
    /// span, without building it) as a `ScopeSpans.spans` field; false (nothing appended) when
    /// the phase failed (its span has an error status and an `exception` event).
    static func appendPhase(
        _ phase: FunctionCallPhase, spanID: UInt64, parent: OTLPSpanContext, to bytes: inout [UInt8]
    ) -> Bool {
        guard phase.error == nil else { return false }
        let head = Head(
            traceIDHigh: parent.traceIDHigh, traceIDLow: parent.traceIDLow, spanID: spanID,
            parentSpanID: parent.spanID, kind: UInt8(ProtobufWriter.kind(.internal)),
            startNanoseconds: phase.startNanoseconds, endNanoseconds: max(phase.endNanoseconds, phase.startNanoseconds),
            sampled: parent.sampled)
        append(
            head, traceState: parent.traceState, name: phase.name, nameSuffix: nil, known: RequestAttributes.none,
            function: phase.function, model: phase.model, version: phase.version, cold: phase.cold, status: nil,
            to: &bytes)
        return true
    }

    /// The fixed-size fields of a span.
    private struct Head {
        var traceIDHigh: UInt64
        var traceIDLow: UInt64
        var spanID: UInt64
        /// 0 for a root span.
        var parentSpanID: UInt64
        var kind: UInt8
        var startNanoseconds: UInt64
        var endNanoseconds: UInt64
        var sampled: Bool
    }

    /// The span's bytes: the HTTP and RPC fields of `known`, then the function's (`function`,
    /// `model`, `version`, `cold`: `known`'s own for a ``FinishedSpan``, a phase's for a phase).
    private static func append(
        _ head: Head, traceState: String?, name: String, nameSuffix: String?, known: borrowing RequestAttributes,
        function: String?, model: String?, version: Int?, cold: Bool?, status: SpanStatus?, to bytes: inout [UInt8]
    ) {
        // Sizes first (the span's length comes before it).
        var size = 18 + 10 + 2  // trace_id, span_id, kind
        if let traceState, !traceState.isEmpty { size += 1 + stringSize(traceState.utf8.count) }
        if head.parentSpanID != 0 { size += 10 }
        // `name`, then a space and `nameSuffix` when set (``FinishedSpan/exportedName``).
        let nameCount = name.utf8.count + (nameSuffix.map { 1 + $0.utf8.count } ?? 0)
        if nameCount > 0 { size += 1 + stringSize(nameCount) }
        if head.startNanoseconds != 0 { size += 9 }
        if head.endNanoseconds != 0 { size += 9 }
        size += knownSize(known)
        if let function { size += stringAttributeSize(Key.function, function.utf8.count) }
        if let model { size += stringAttributeSize(Key.model, model.utf8.count) }
        if let version { size += intAttributeSize(Key.version, UInt64(bitPattern: Int64(version))) }
        if cold != nil { size += attributeSize(Key.cold, anyValue: 2) }
        let statusText = status?.message.flatMap { $0.isEmpty ? nil : $0 }
        if status != nil {
            let body = 2 + (statusText.map { 1 + stringSize($0.utf8.count) } ?? 0)
            size += 1 + ProtobufWriter.varintSize(body) + body
        }
        if head.sampled { size += 6 }  // flags: a 2-byte tag and a fixed32

        let total = 1 + ProtobufWriter.varintSize(size) + size
        let start = bytes.count
        // Copied from zeros (one memcpy), not appended a zero at a time.
        if total <= zeros.count {
            bytes.append(contentsOf: zeros[..<total])
        } else {
            bytes.append(contentsOf: repeatElement(0, count: total))
        }
        bytes.withUnsafeMutableBufferPointer { buffer in
            var w = SpanFieldWriter(p: buffer.baseAddress! + start)
            w.byte(0x12)  // ScopeSpans.spans
            w.varint(UInt64(size))
            // In ProtobufWriter.span's order.
            w.byte(0x0A)  // trace_id
            w.byte(16)
            w.id(head.traceIDHigh)
            w.id(head.traceIDLow)
            w.byte(0x12)  // span_id
            w.byte(8)
            w.id(head.spanID)
            if let traceState, !traceState.isEmpty { w.string(0x1A, traceState) }
            if head.parentSpanID != 0 {
                w.byte(0x22)  // parent_span_id
                w.byte(8)
                w.id(head.parentSpanID)
            }
            if nameCount > 0 {
                w.byte(0x2A)  // name
                w.varint(UInt64(nameCount))
                w.utf8(name)
                if let nameSuffix {
                    w.byte(UInt8(ascii: " "))
                    w.utf8(nameSuffix)
                }
            }
            w.byte(0x30)  // kind
            w.byte(head.kind)
            if head.startNanoseconds != 0 { w.fixed64(0x39, head.startNanoseconds) }
            if head.endNanoseconds != 0 { w.fixed64(0x41, head.endNanoseconds) }
            w.known(known)
            if let function { w.stringAttribute(Key.function, function) }
            if let model { w.stringAttribute(Key.model, model) }
            if let version { w.intAttribute(Key.version, UInt64(bitPattern: Int64(version))) }
            if let cold {
                w.attributeHead(Key.cold, anyValue: 2)
                w.byte(0x10)  // AnyValue.bool_value
                w.byte(cold ? 1 : 0)
            }
            if let status {
                w.byte(0x7A)  // status
                w.varint(UInt64(2 + (statusText.map { 1 + stringSize($0.utf8.count) } ?? 0)))
                if let statusText { w.string(0x12, statusText) }
                w.byte(0x18)
                w.byte(status.code == .ok ? 1 : 2)
            }
            if head.sampled {
                w.byte(0x85)  // flags (field 16, fixed32)
                w.byte(0x01)
                w.byte(1)
                w.byte(0)
                w.byte(0)
                w.byte(0)
            }
            assert(w.p == buffer.baseAddress! + start + total)
        }
    }

    // MARK: Sizes

    private static func stringSize(_ count: Int) -> Int { ProtobufWriter.varintSize(count) + count }

    /// A `Span.attributes` key-value with its tag and length, its value `anyValue` bytes.
    private static func attributeSize(_ key: StaticString, anyValue: Int) -> Int {
        let kv = 2 + key.utf8CodeUnitCount + 1 + ProtobufWriter.varintSize(anyValue) + anyValue
        return 1 + ProtobufWriter.varintSize(kv) + kv
    }

    private static func stringAttributeSize(_ key: StaticString, _ count: Int) -> Int {
        attributeSize(key, anyValue: 1 + stringSize(count))
    }

    private static func intAttributeSize(_ key: StaticString, _ value: UInt64) -> Int {
        attributeSize(key, anyValue: 1 + ProtobufWriter.varintSize(value))
    }

    /// The HTTP and RPC fields of `a` (not the function's).
    private static func knownSize(_ a: borrowing RequestAttributes) -> Int {
        var n = 0
        if let method = a.method { n += stringAttributeSize(Key.method, method.utf8.count) }
        if let path = a.path { n += stringAttributeSize(Key.path, path.utf8.count) }
        if let route = a.route { n += stringAttributeSize(Key.route, route.utf8.count) }
        if let status = a.status { n += intAttributeSize(Key.status, UInt64(bitPattern: Int64(status))) }
        if let rpcService = a.rpcService {
            n += stringAttributeSize(Key.rpcSystem, Key.grpc.utf8CodeUnitCount)
            n += stringAttributeSize(Key.rpcService, rpcService.utf8.count)
        }
        if let rpcMethod = a.rpcMethod { n += stringAttributeSize(Key.rpcMethod, rpcMethod.utf8.count) }
        if let grpcStatus = a.grpcStatus {
            n += intAttributeSize(Key.grpcStatus, UInt64(bitPattern: Int64(grpcStatus)))
        }
        return n
    }

    // MARK: Writing

    /// The HTTP and RPC fields of `a`, in ``RequestAttributes/forEach(_:)``'s order.
    private mutating func known(_ a: borrowing RequestAttributes) {
        if let method = a.method { stringAttribute(Key.method, method) }
        if let path = a.path { stringAttribute(Key.path, path) }
        if let route = a.route { stringAttribute(Key.route, route) }
        if let status = a.status { intAttribute(Key.status, UInt64(bitPattern: Int64(status))) }
        if let rpcService = a.rpcService {
            attributeHead(Key.rpcSystem, anyValue: 1 + Self.stringSize(Key.grpc.utf8CodeUnitCount))
            byte(0x0A)  // AnyValue.string_value
            byte(UInt8(Key.grpc.utf8CodeUnitCount))
            constant(Key.grpc)
            stringAttribute(Key.rpcService, rpcService)
        }
        if let rpcMethod = a.rpcMethod { stringAttribute(Key.rpcMethod, rpcMethod) }
        if let grpcStatus = a.grpcStatus { intAttribute(Key.grpcStatus, UInt64(bitPattern: Int64(grpcStatus))) }
    }

    /// A `Span.attributes` field's tag and length, the `KeyValue.key` and the tag and length of
    /// `KeyValue.value` (an `AnyValue` of `anyValue` bytes, written next).
    private mutating func attributeHead(_ key: StaticString, anyValue: Int) {
        let kv = 2 + key.utf8CodeUnitCount + 1 + ProtobufWriter.varintSize(anyValue) + anyValue
        byte(0x4A)  // Span.attributes
        varint(UInt64(kv))
        byte(0x0A)  // KeyValue.key
        byte(UInt8(key.utf8CodeUnitCount))
        constant(key)
        byte(0x12)  // KeyValue.value
        varint(UInt64(anyValue))
    }

    private mutating func stringAttribute(_ key: StaticString, _ value: String) {
        let count = value.utf8.count
        attributeHead(key, anyValue: 1 + Self.stringSize(count))
        byte(0x0A)  // AnyValue.string_value
        varint(UInt64(count))
        utf8(value)
    }

    private mutating func intAttribute(_ key: StaticString, _ value: UInt64) {
        attributeHead(key, anyValue: 1 + ProtobufWriter.varintSize(value))
        byte(0x18)  // AnyValue.int_value
        varint(value)
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

    private mutating func constant(_ s: StaticString) {
        p.update(from: s.utf8Start, count: s.utf8CodeUnitCount)
        p += s.utf8CodeUnitCount
    }

    /// `value`'s UTF-8 bytes, from its storage when it is contiguous (a native string).
    private mutating func utf8(_ value: String) {
        let copied = value.utf8.withContiguousStorageIfAvailable { utf8 -> Int in
            if let base = utf8.baseAddress { p.update(from: base, count: utf8.count) }
            return utf8.count
        }
        if let copied {
            p += copied
        } else {
            for b in value.utf8 { byte(b) }
        }
    }

    /// A string field: `tag` (one byte), the length and the UTF-8 bytes.
    private mutating func string(_ tag: UInt8, _ value: String) {
        byte(tag)
        varint(UInt64(value.utf8.count))
        utf8(value)
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

/// Zeros to grow a batch's bytes by before a span is written over them.
private let zeros = [UInt8](repeating: 0, count: 4096)

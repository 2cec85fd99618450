import Tracing

/// The identity of a span as W3C Trace Context carries it: trace id, span id, the sampled
/// flag and `tracestate`. Stored in the `ServiceContext` of every span ``OTLPTracer`` starts
/// (and of a caller's span it extracted), so children find their parent and its decision.
package struct OTLPSpanContext: Sendable, Equatable {
    /// The 128-bit trace id, high and low halves.
    package var traceIDHigh: UInt64
    package var traceIDLow: UInt64
    package var spanID: UInt64
    package var sampled: Bool
    /// The caller's `tracestate`, passed on unchanged.
    package var traceState: String?
    /// Whether this came from a caller's headers (not a span of this process).
    package var isRemote: Bool

    package init(
        traceIDHigh: UInt64, traceIDLow: UInt64, spanID: UInt64, sampled: Bool, traceState: String? = nil,
        isRemote: Bool = false
    ) {
        self.traceIDHigh = traceIDHigh
        self.traceIDLow = traceIDLow
        self.spanID = spanID
        self.sampled = sampled
        self.traceState = traceState
        self.isRemote = isRemote
    }

    /// `00-<trace>-<span>-<flags>`.
    package var traceparent: String {
        "00-\(traceIDHex)-\(Self.hex(spanID))-\(sampled ? "01" : "00")"
    }

    /// The trace id as 32 lower-case hex digits.
    package var traceIDHex: String { Self.hex(traceIDHigh) + Self.hex(traceIDLow) }

    /// Parses a version-00 `traceparent` (lower-case hex, non-zero ids); nil when malformed.
    package init?(traceparent: String, traceState: String?) {
        // On the UTF-8 bytes in place (no array per request).
        guard
            let ids =
                traceparent.utf8.withContiguousStorageIfAvailable(Self.parse)
                ?? Array(traceparent.utf8).withUnsafeBufferPointer(Self.parse)
        else { return nil }
        self.init(
            traceIDHigh: ids.high, traceIDLow: ids.low, spanID: ids.span, sampled: ids.flags & 1 == 1,
            traceState: traceState, isRemote: true)
    }

    private static func parse(_ utf8: UnsafeBufferPointer<UInt8>) -> (
        high: UInt64, low: UInt64, span: UInt64, flags: UInt64
    )? {
        // 2 + 1 + 32 + 1 + 16 + 1 + 2; later versions may append fields after another dash.
        guard utf8.count >= 55, utf8[2] == UInt8(ascii: "-"), utf8[35] == UInt8(ascii: "-"),
            utf8[52] == UInt8(ascii: "-"), utf8.count == 55 || utf8[55] == UInt8(ascii: "-")
        else { return nil }
        guard let version = parseHex(utf8[0..<2]), version != 0xff, version == 0 ? utf8.count == 55 : true,
            let high = parseHex(utf8[3..<19]), let low = parseHex(utf8[19..<35]),
            let span = parseHex(utf8[36..<52]), let flags = parseHex(utf8[53..<55]),
            high | low != 0, span != 0
        else { return nil }
        return (high, low, span, flags)
    }

    static func parseHex(_ digits: Slice<UnsafeBufferPointer<UInt8>>) -> UInt64? {
        var value: UInt64 = 0
        for c in digits {
            let d: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
            default: return nil
            }
            value = value << 4 | UInt64(d)
        }
        return value
    }

    /// 16 lower-case hex digits.
    static func hex(_ value: UInt64) -> String {
        String(unsafeUninitializedCapacity: 16) { buffer in
            let digits: StaticString = "0123456789abcdef"
            for i in 0..<16 {
                let nibble = Int((value >> UInt64(60 - 4 * i)) & 0xf)
                buffer[i] = digits.utf8Start[nibble]
            }
            return 16
        }
    }
}

/// The `ServiceContext` key of ``OTLPSpanContext``.
package enum OTLPSpanContextKey: ServiceContextKey {
    package typealias Value = OTLPSpanContext
}

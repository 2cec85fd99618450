/// The trace id of a request, from W3C `traceparent: 00-TRACE-SPAN-01` or, when that is
/// absent or malformed, Cloud Run's `X-Cloud-Trace-Context: TRACE/SPAN;o=1`.
package struct TraceContext: Sendable, Equatable {
    package var traceID: String
    package var spanID: String?

    package init(traceID: String, spanID: String? = nil) {
        self.traceID = traceID
        self.spanID = spanID
    }

    package static func parse(cloudTrace: String?, traceparent: String?) -> TraceContext? {
        if let header = traceparent, let parts = traceparentParts(header) {
            return TraceContext(traceID: parts.trace, spanID: parts.span)
        }
        if let header = cloudTrace, let parts = cloudTraceParts(header) {
            return TraceContext(traceID: parts.trace, spanID: parts.span.map(String.init))
        }
        return nil
    }

    /// A W3C `traceparent` equivalent to an `X-Cloud-Trace-Context` value (the decimal span id
    /// in hex, `o=1` as the sampled flag), so a span continues a Cloud Run trace; nil when the
    /// value has no valid trace id or no non-zero span id.
    package static func traceparent(fromCloudTrace header: String) -> String? {
        guard let parts = cloudTraceParts(header), let span = parts.span, span != 0 else { return nil }
        let hex = String(span, radix: 16)
        let spanHex = String(repeating: "0", count: 16 - hex.count) + hex
        return "00-\(parts.trace)-\(spanHex)-\(parts.sampled ? "01" : "00")"
    }

    /// The trace and span ids of a `traceparent` (`VV-TRACE-SPAN-FF`, then optionally `-…`),
    /// lower-cased; nil unless the ids are hex (either case) of the right lengths and not zero.
    static func traceparentParts(_ header: String) -> (trace: String, span: String)? {
        withTraceparentBytes(header) { bytes in
            guard isValidTraceparent(bytes) else { return nil }
            func lowercased(_ range: Range<Int>) -> String {
                String(unsafeUninitializedCapacity: range.count) { out in
                    // Hex digits only (checked): setting 0x20 lower-cases A–F and keeps 0–9.
                    for i in 0..<range.count { out[i] = bytes[range.lowerBound + i] | 0x20 }
                    return range.count
                }
            }
            return (lowercased(3..<35), lowercased(36..<52))
        }
    }

    /// Whether ``traceparentParts(_:)`` finds the ids (without building them).
    static func isValidTraceparent(_ header: String) -> Bool {
        withTraceparentBytes(header) { isValidTraceparent($0) }
    }

    /// `body` on the header's UTF-8 bytes, read in place (every request carrying a trace reads
    /// its `traceparent`).
    private static func withTraceparentBytes<R>(_ header: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let result = header.utf8.withContiguousStorageIfAvailable(body) { return result }
        return Array(header.utf8).withUnsafeBufferPointer(body)
    }

    /// The checks of ``traceparentParts(_:)`` on the bytes: four dash-separated fields of 2,
    /// 32, 16 and 2 hex digits (more may follow after another dash), the ids not all zeros.
    private static func isValidTraceparent(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        let dash = UInt8(ascii: "-")
        guard b.count >= 55, b[2] == dash, b[35] == dash, b[52] == dash, b.count == 55 || b[55] == dash else {
            return false
        }
        // 0–9, or a–f in either case (0x20 set lower-cases a letter), without branches per byte.
        func hex(_ c: UInt8) -> Bool { c &- 48 < 10 || (c | 0x20) &- 97 < 6 }
        var allHex = hex(b[0]) && hex(b[1]) && hex(b[53]) && hex(b[54])
        var trace: UInt8 = 0  // the OR of the id's digits minus "0": zero only when all are "0"
        for i in 3..<35 {
            allHex = allHex && hex(b[i])
            trace |= b[i] ^ UInt8(ascii: "0")
        }
        var span: UInt8 = 0
        for i in 36..<52 {
            allHex = allHex && hex(b[i])
            span |= b[i] ^ UInt8(ascii: "0")
        }
        return allHex && trace != 0 && span != 0
    }

    static func cloudTraceParts(_ header: String) -> (trace: String, span: UInt64?, sampled: Bool)? {
        guard !header.isEmpty else { return nil }
        let traceAndRest = header.split(separator: "/", maxSplits: 1)
        guard let first = traceAndRest.first, first.count == 32, isHex(first) else { return nil }
        var span: UInt64?
        var sampled = false
        if traceAndRest.count > 1 {
            let fields = traceAndRest[1].split(separator: ";")
            if let s = fields.first, !s.isEmpty, s.allSatisfy(\.isNumber) { span = UInt64(s) }
            sampled = fields.dropFirst().contains("o=1")
        }
        return (first.lowercased(), span, sampled)
    }

    private static func isHex(_ s: Substring) -> Bool {
        s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) || ($0 >= 65 && $0 <= 70) }
    }
}

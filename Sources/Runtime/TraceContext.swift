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

    static func traceparentParts(_ header: String) -> (trace: String, span: String)? {
        let parts = header.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].count == 2, parts[1].count == 32, isHex(parts[1]), parts[2].count == 16,
            isHex(parts[2]), parts[3].count == 2, isHex(parts[3])
        else { return nil }
        let trace = parts[1].lowercased()
        let span = parts[2].lowercased()
        guard trace != String(repeating: "0", count: 32), span != String(repeating: "0", count: 16) else { return nil }
        return (trace, span)
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

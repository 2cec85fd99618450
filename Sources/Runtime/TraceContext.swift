/// The trace id of a request, from `X-Cloud-Trace-Context: TRACE/SPAN;o=1` or W3C
/// `traceparent: 00-TRACE-SPAN-01`.
package struct TraceContext: Sendable, Equatable {
    package var traceID: String
    package var spanID: String?

    package init(traceID: String, spanID: String? = nil) {
        self.traceID = traceID
        self.spanID = spanID
    }

    package static func parse(cloudTrace: String?, traceparent: String?) -> TraceContext? {
        if let header = cloudTrace, !header.isEmpty {
            let traceAndRest = header.split(separator: "/", maxSplits: 1)
            let trace = String(traceAndRest[0])
            if isHex(trace), trace.count == 32 {
                var span: String?
                if traceAndRest.count > 1 {
                    let s = traceAndRest[1].split(separator: ";")[0]
                    if !s.isEmpty, s.allSatisfy(\.isNumber) { span = String(s) }
                }
                return TraceContext(traceID: trace.lowercased(), spanID: span)
            }
        }
        if let header = traceparent {
            let parts = header.split(separator: "-")
            if parts.count == 4, parts[1].count == 32, isHex(String(parts[1])), parts[2].count == 16 {
                return TraceContext(traceID: parts[1].lowercased(), spanID: String(parts[2]))
            }
        }
        return nil
    }

    private static func isHex(_ s: String) -> Bool {
        s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) || ($0 >= 65 && $0 <= 70) }
    }
}

import Common
import Functions

extension CallTiming {
    /// `cold;dur=…, fetch;dur=…, parse;dur=…, queue;dur=…, infer;dur=…, total;dur=…`
    package var headerValue: String {
        func f(_ v: Double) -> String { v.fixed(3) }
        var parts: [String] = []
        if let coldMs {
            parts.append("cold;dur=\(f(coldMs))")
            if let load {
                parts.append("fetch;dur=\(f(load.fetchMs))")
                parts.append("parse;dur=\(f(load.parseMs))")
            }
        }
        parts.append("queue;dur=\(f(queueMs))")
        parts.append("infer;dur=\(f(inferMs))")
        parts.append("total;dur=\(f(totalMs))")
        return parts.joined(separator: ", ")
    }
}

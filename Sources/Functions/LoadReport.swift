import Common

/// What one model load cost (DESIGN.md "Cold start, defined"): fetch from object storage,
/// parse into tensors. With streaming loads the two overlap: `fetchMs` is time spent waiting
/// for bytes, `parseMs` the rest of the load.
package struct LoadReport: Sendable, Equatable {
    package var version: Int
    package var fetchMs: Double
    package var parseMs: Double
    package var totalMs: Double
    package var bytes: Int

    package init(version: Int, fetchMs: Double, parseMs: Double, totalMs: Double, bytes: Int) {
        self.version = version
        self.fetchMs = fetchMs
        self.parseMs = parseMs
        self.totalMs = totalMs
        self.bytes = bytes
    }
}

/// The `Server-Timing` of one function response.
package struct ServerTiming: Sendable, Equatable {
    /// Time this request waited for a model load (nil: the function was warm).
    package var coldMs: Double?
    /// The load this request waited for, if any.
    package var load: LoadReport?
    package var queueMs: Double = 0
    package var inferMs: Double = 0
    package var totalMs: Double = 0

    package init() {}

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

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

/// What one call cost (the runtime sends it as `Server-Timing`).
package struct CallTiming: Sendable, Equatable {
    /// Time this request waited for a model load (nil: the function was warm).
    package var coldMs: Double?
    /// The load this request waited for, if any.
    package var load: LoadReport?
    package var queueMs: Double = 0
    package var inferMs: Double = 0
    package var totalMs: Double = 0

    package init() {}
}

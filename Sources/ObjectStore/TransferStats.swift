/// What one verified transfer cost.
package struct TransferStats: Sendable, Equatable {
    package var bytes = 0
    /// Wall time of the whole transfer, consumer included.
    package var totalSeconds = 0.0
    /// Time spent inside the consumer (parsing), a part of `totalSeconds`.
    package var consumerSeconds = 0.0
    /// Time spent waiting for bytes: `totalSeconds - consumerSeconds`.
    package var fetchSeconds: Double { max(0, totalSeconds - consumerSeconds) }
    /// Files served from the local cache (`MSCR_CACHE_DIR`).
    package var cacheHits = 0
    /// Files written into the cache after they verified.
    package var cacheStores = 0
    /// Files that could not be cached (disk full, read-only directory); the load went on.
    package var cacheFailures = 0

    package init() {}

    package static func + (a: TransferStats, b: TransferStats) -> TransferStats {
        var s = TransferStats()
        s.bytes = a.bytes + b.bytes
        s.totalSeconds = a.totalSeconds + b.totalSeconds
        s.consumerSeconds = a.consumerSeconds + b.consumerSeconds
        s.cacheHits = a.cacheHits + b.cacheHits
        s.cacheStores = a.cacheStores + b.cacheStores
        s.cacheFailures = a.cacheFailures + b.cacheFailures
        return s
    }
}

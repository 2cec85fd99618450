import Dispatch
import Synchronization

/// Splits the engine's own loops (im2col, bias + activation, sums) over the threads of the
/// inference running on this thread (``ComputePool/run(_:)``: its share of the pool's threads).
/// Outside a pool, or with one thread, a loop runs inline.
package enum Parallel {
    /// Threads the next phase of the calling inference may use: its pool's share (1 outside a
    /// pool).
    package static var threads: Int { currentPool?.share ?? 1 }

    /// One inference's share of `configured` threads when `running` inferences run at once.
    package static func share(configured: Int, running: Int) -> Int {
        running <= 1 ? configured : max(1, configured / running)
    }

    /// Calls `body` on disjoint ranges covering `0 ..< count`, in parallel when there are several
    /// threads and `count · cost` (roughly floats touched) is worth it.
    /// The work is cut into `chunksPerThread` parts per thread and handed out dynamically, so a
    /// thread that loses its core for a while (shared machines) does not hold the others up.
    @inline(__always)
    package static func forEach(_ count: Int, cost: Int, _ body: (Range<Int>) -> Void) {
        let current = currentPool
        let t = current?.share ?? 1
        if t <= 1 || count <= 1 || count * cost < 1 << 16 {
            body(0..<count)
            return
        }
        let parts = min(count, t * chunksPerThread)
        let range = { @Sendable (i: Int) in (count * i / parts)..<(count * (i + 1) / parts) }
        if let pool = current?.workers, pool.run(parts, { i, _ in body(range(i)) }) { return }
        // The pool is running another inference's phase (the moment one more started): this
        // phase runs inline rather than oversubscribe the cores.
        body(0..<count)
    }

    /// Calls `body(i, slot)` for every `i` in `0 ..< count`, one part per index handed out
    /// dynamically, where `slot < min(threads, slots)` and no two parts run at once with the same
    /// slot: a part may use the slot's share of a workspace. Runs inline (slot 0) on one thread,
    /// or when the pool is busy with another job.
    package static func forEachSlot(_ count: Int, slots: Int, _ body: (Int, Int) -> Void) {
        if slots > 1, count > 1, let current = currentPool, current.share > 1, let pool = current.workers,
            pool.run(count, slots: slots, body)
        {
            return
        }
        for i in 0..<count { body(i, 0) }
    }

    /// Parts per thread in `forEach`.
    package static let chunksPerThread = 4

}

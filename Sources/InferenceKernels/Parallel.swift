import Dispatch
import Synchronization

/// Splits the engine's own loops (im2col, bias + activation, sums) over the inference threads.
/// One thread runs inline.
///
/// The thread count adapts to load, like OpenVINO's latency and throughput hints: an inference
/// that runs alone uses every configured thread; when several run at once (`inference(_:)`
/// counts them) each phase of each gets its share, `configured / running`, so a lone cold
/// request is not computed on one core while the others idle, and a busy instance does not
/// oversubscribe its cores.
package enum Parallel {
    private static let threadCount = Atomic<Int>(1)
    private static let running = Atomic<Int>(0)
    private static let pending = Atomic<Int>(0)

    /// Threads the next phase of the calling inference may use: the configured count shared
    /// among the inferences running now, or among the requests the server has taken in (running
    /// or waiting for their turn) when there are more of those: under a queue every inference
    /// runs on one thread, as the workers already keep every core busy.
    package static var threads: Int {
        share(
            configured: threadCount.load(ordering: .relaxed),
            running: max(running.load(ordering: .relaxed), pending.load(ordering: .relaxed)))
    }

    /// Counts a request the server has taken in until `requestEnded`, so that inferences split
    /// the cores as soon as a queue forms, not only once a second inference has started.
    package static func requestStarted() { pending.add(1, ordering: .relaxed) }
    package static func requestEnded() { pending.subtract(1, ordering: .relaxed) }

    /// One inference's share of `configured` threads when `running` inferences run at once.
    package static func share(configured: Int, running: Int) -> Int {
        running <= 1 ? configured : max(1, configured / running)
    }

    /// Inferences running now.
    static var runningInferences: Int { max(running.load(ordering: .relaxed), pending.load(ordering: .relaxed)) }

    /// The most threads one inference uses (set by `InferenceThreads.set`).
    package static var configuredThreads: Int { threadCount.load(ordering: .relaxed) }

    /// Runs one inference, counted while it runs so that `threads` splits the cores among the
    /// inferences at once.
    package static func inference<R>(_ body: () throws -> R) rethrows -> R {
        running.add(1, ordering: .relaxed)
        defer { running.subtract(1, ordering: .relaxed) }
        return try body()
    }

    package static func setThreads(_ n: Int) {
        let n = max(1, n)
        threadCount.store(n, ordering: .relaxed)
        pool.withLock { pool in
            if n > 1, (pool?.workers ?? 0) < n - 1 { pool = ParallelPool(workers: n - 1) }
            pool?.setAllowed(n - 1)
        }
    }

    /// The worker threads (`threads - 1` of them take part; the caller is the other one).
    /// A pool only grows: a smaller count leaves the extra workers asleep.
    private static let pool = Mutex<ParallelPool?>(nil)

    /// Calls `body` on disjoint ranges covering `0 ..< count`, in parallel when there are several
    /// threads and `count · cost` (roughly floats touched) is worth it.
    /// The work is cut into `chunksPerThread` parts per thread and handed out dynamically, so a
    /// thread that loses its core for a while (shared machines) does not hold the others up.
    @inline(__always)
    package static func forEach(_ count: Int, cost: Int, _ body: (Range<Int>) -> Void) {
        let t = threads
        if t <= 1 || count <= 1 || count * cost < 1 << 16 {
            body(0..<count)
            return
        }
        let parts = min(count, t * chunksPerThread)
        let range = { @Sendable (i: Int) in (count * i / parts)..<(count * (i + 1) / parts) }
        if let pool = pool.withLock({ $0 }), pool.run(parts, { i, _ in body(range(i)) }) { return }
        // The pool is running another inference's phase (the moment one more started): this
        // phase runs inline rather than oversubscribe the cores.
        body(0..<count)
    }

    /// Calls `body(i, slot)` for every `i` in `0 ..< count`, one part per index handed out
    /// dynamically, where `slot < min(threads, slots)` and no two parts run at once with the same
    /// slot: a part may use the slot's share of a workspace. Runs inline (slot 0) on one thread,
    /// or when the pool is busy with another job.
    package static func forEachSlot(_ count: Int, slots: Int, _ body: (Int, Int) -> Void) {
        if threads > 1, slots > 1, count > 1, let pool = pool.withLock({ $0 }), pool.run(count, slots: slots, body) {
            return
        }
        for i in 0..<count { body(i, 0) }
    }

    /// Parts per thread in `forEach`.
    package static let chunksPerThread = 4

}

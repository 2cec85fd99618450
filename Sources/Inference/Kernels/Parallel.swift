import Dispatch
import Synchronization

/// Splits the engine's own loops (im2col, bias + activation, sums) over the inference threads,
/// the same count OpenBLAS uses. One thread runs inline.
package enum Parallel {
    private static let threadCount = Atomic<Int>(1)

    /// Threads the engine's own loops use (set by `InferenceThreads.set`).
    package static var threads: Int { threadCount.load(ordering: .relaxed) }

    package static func setThreads(_ n: Int) { threadCount.store(max(1, n), ordering: .relaxed) }

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
        withoutActuallyEscaping(body) { body in
            let box = UncheckedBody(body: body)
            DispatchQueue.concurrentPerform(iterations: parts) { i in
                box.body((count * i / parts)..<(count * (i + 1) / parts))
            }
        }
    }

    /// Parts per thread in `forEach`.
    package static let chunksPerThread = 4

    /// The closure only touches disjoint ranges of caller-owned buffers.
    private struct UncheckedBody: @unchecked Sendable {
        let body: (Range<Int>) -> Void
    }
}

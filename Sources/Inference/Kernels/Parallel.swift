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
    @inline(__always)
    package static func forEach(_ count: Int, cost: Int, _ body: (Range<Int>) -> Void) {
        let t = min(threads, count)
        if t <= 1 || count * cost < 1 << 16 {
            body(0..<count)
            return
        }
        withoutActuallyEscaping(body) { body in
            let box = UncheckedBody(body: body)
            DispatchQueue.concurrentPerform(iterations: t) { i in
                box.body((count * i / t)..<(count * (i + 1) / t))
            }
        }
    }

    /// The closure only touches disjoint ranges of caller-owned buffers.
    private struct UncheckedBody: @unchecked Sendable {
        let body: (Range<Int>) -> Void
    }
}

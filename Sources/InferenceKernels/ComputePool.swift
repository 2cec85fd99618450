import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The engine's threads for one owner (a server, a CLI command, a test): how many one inference
/// may use, the worker threads that help it, and how many inferences and requests share them.
///
/// Nothing about threads is process-wide: an inference uses the pool it runs in
/// (``run(_:)``), and code outside any pool runs on one thread. The thread count adapts to load,
/// like OpenVINO's latency and throughput hints: an inference that runs alone uses every thread;
/// when several run at once, or requests wait for their turn, each phase of each gets its share,
/// `threads / running`, so a lone cold request is not computed on one core while the others
/// idle, and a busy instance does not oversubscribe its cores.
package final class ComputePool: Sendable {
    /// The most threads one inference uses (the caller's plus `threads - 1` workers).
    package let threads: Int
    let demand = Demand()
    let workers: ParallelPool?

    /// Inferences running and requests taken in, which split the threads between them.
    final class Demand: Sendable {
        let running = Atomic<Int>(0)
        let pending = Atomic<Int>(0)

        var count: Int { max(running.load(ordering: .relaxed), pending.load(ordering: .relaxed)) }
    }

    /// A pool for inferences of up to `threads` threads (at least 1); the `threads - 1` workers
    /// start now and sleep between jobs.
    package init(threads: Int) {
        let n = max(1, threads)
        self.threads = n
        workers = n > 1 ? ParallelPool(workers: n - 1, demand: demand) : nil
        workers?.setAllowed(n - 1)
    }

    /// Runs one inference (blocking) on this pool: `Parallel`'s loops inside `body`, on this
    /// thread, use the pool's threads; counted while it runs so that inferences at once share
    /// them.
    package func run<R>(_ body: () throws -> R) rethrows -> R {
        demand.running.add(1, ordering: .relaxed)
        let previous = Parallel.currentPool
        Parallel.currentPool = self
        defer {
            Parallel.currentPool = previous
            demand.running.subtract(1, ordering: .relaxed)
        }
        return try body()
    }

    /// Counts a request taken in (admitted or queued) until ``requestEnded()``, so that
    /// inferences split the cores as soon as a queue forms, not only once a second inference
    /// has started.
    package func requestStarted() { demand.pending.add(1, ordering: .relaxed) }
    package func requestEnded() { demand.pending.subtract(1, ordering: .relaxed) }

    /// Threads the next phase of an inference on this pool may use: its share of ``threads``.
    package var share: Int { Parallel.share(configured: threads, running: demand.count) }

    deinit { workers?.stop() }

    /// Stops the worker threads once their current job is done (inferences after this run on
    /// the calling thread alone).
    package func shutdown() { workers?.stop() }
}

extension Parallel {
    /// The pool of the inference running on this thread (set by ``ComputePool/run(_:)``).
    static var currentPool: ComputePool? {
        get {
            guard let pointer = pthread_getspecific(poolKey) else { return nil }
            return Unmanaged<ComputePool>.fromOpaque(pointer).takeUnretainedValue()
        }
        set {
            // Unretained: `run` holds the pool for as long as it is current.
            pthread_setspecific(poolKey, newValue.map { UnsafeRawPointer(Unmanaged.passUnretained($0).toOpaque()) })
        }
    }

    private static let poolKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()
}

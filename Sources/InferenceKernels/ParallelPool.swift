import Common
import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Persistent worker threads for `Parallel.forEach`: a job's parts are claimed one at a time
/// from one shared word, by the caller from the front and by the workers from the back; the
/// workers spin briefly between jobs and then sleep. `DispatchQueue.concurrentPerform` wakes pool threads per call; when a wake-up is
/// late the caller runs every part itself, and a forward pass has hundreds of such phases.
///
/// One job at a time: a `forEach` that finds the pool busy (a second inference, or a nested
/// call) returns false and the caller falls back to `concurrentPerform`.
final class ParallelPool: @unchecked Sendable {
    /// The claim word: generation in the high 24 bits, then the next part from the front and the
    /// end of the parts left (20 bits each). The caller claims from the front, workers from the
    /// back, so the caller runs the first parts of every job and a worker the last: consecutive
    /// layers cut the same way (pixels, channels) find much of their input in their own core's
    /// cache instead of the other's, which costs far more when the host places the two vCPUs
    /// apart (cache-line round trip 350–540 ns instead of 80–160, measured). A thread claims by
    /// compare-and-swap only while the generation is the one it joined, so a straggler from a
    /// finished job can never take (and lose) a part of the next one.
    private let claim = Atomic<UInt64>(0)
    private static let partBits: UInt64 = 20
    private static let partMask: UInt64 = (1 << partBits) - 1
    private static let generationShift: UInt64 = 2 * partBits
    private static let generationMask: UInt64 = (1 << (64 - generationShift)) - 1
    /// Most parts one job may have (`run` returns false beyond).
    static let maxParts = Int(partMask)
    private let finished = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let sleeping = Atomic<Int>(0)
    /// The running job's `Job`, as a pointer's bits (valid while its parts are not all done).
    private let jobBits = Atomic<UInt>(0)
    /// Workers that may join the running job (its `slots − 1`).
    private let joiners = Atomic<Int>(0)
    private let wake = DispatchSemaphore(value: 0)
    /// How many workers may join a job (`Parallel.threads - 1`); extra workers stay out.
    private let allowed = Atomic<Int>(0)
    let workers: Int
    /// The owner's inferences and requests: workers stop spinning while several share the cores.
    private let demand: ComputePool.Demand
    /// Set by `stop()`: each worker returns at its next wake-up.
    private let stopped = Atomic<Bool>(false)
    /// Set by the first `stop()` (later calls return at once).
    private let stopping = Atomic<Bool>(false)

    private struct Job {
        /// Part, slot (0: the caller; worker `w`: `w + 1`).
        let body: (Int, Int) -> Void
    }

    /// Spins (atomic loads) before a worker sleeps: ~20-50 µs, longer than the gap between two
    /// phases of a layer, far shorter than the gap between two requests.
    private static let spinLimit = 200_000

    init(workers: Int, demand: ComputePool.Demand) {
        self.workers = workers
        self.demand = demand
        for w in 0..<workers {
            OSThread.start(stackSize: 512 << 10) { [self] in self.workerLoop(w) }
        }
    }

    func setAllowed(_ n: Int) { allowed.store(n, ordering: .relaxed) }

    /// Ends the worker threads: each returns once it sees the new (empty) generation. Waits for
    /// a running job first, and takes the pool so that no job starts afterwards. Only the first
    /// call does anything.
    func stop() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        while !busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged { sched_yield() }
        stopped.store(true, ordering: .releasing)
        let generation = ((claim.load(ordering: .relaxed) >> Self.generationShift) &+ 1) & Self.generationMask
        claim.store(generation << Self.generationShift, ordering: .releasing)
        for _ in 0..<workers { wake.signal() }
    }

    /// Runs `body(i, slot)` for every `i` in `0 ..< count` on the caller (slot 0) and at most
    /// `slots − 1` workers (worker `w` is slot `w + 1`), so no two parts run at once with the same
    /// slot; returns false (running nothing) when the pool is already running a job, or `count`
    /// is over `maxParts`.
    func run(_ count: Int, slots: Int = .max, _ body: (Int, Int) -> Void) -> Bool {
        guard count <= Self.maxParts else { return false }
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        defer { busy.store(false, ordering: .releasing) }
        return withoutActuallyEscaping(body) { body in
            var job = Job(body: body)
            withUnsafeMutablePointer(to: &job) { pointer in
                jobBits.store(UInt(bitPattern: pointer), ordering: .relaxed)
                joiners.store(max(0, slots - 1), ordering: .relaxed)
                finished.store(0, ordering: .relaxed)
                let generation =
                    ((claim.load(ordering: .relaxed) >> Self.generationShift) &+ 1) & Self.generationMask
                // Publishing the new generation with parts 0 ..< count left opens the job.
                claim.store(generation << Self.generationShift | UInt64(count), ordering: .releasing)
                let sleepers = sleeping.exchange(0, ordering: .acquiringAndReleasing)
                for _ in 0..<sleepers { wake.signal() }
                work(generation: generation, job: pointer, slot: 0)
                // The last parts run on workers: wait, yielding the core after a short spin in
                // case one of them is waiting for it.
                var spins = 0
                while finished.load(ordering: .acquiring) < count {
                    spins += 1
                    if spins > 2_000 { sched_yield() }
                }
            }
            return true
        }
    }

    /// Claims and runs parts of job `generation` until none is left: the caller (slot 0) from
    /// the front, workers from the back.
    private func work(generation: UInt64, job: UnsafeMutablePointer<Job>, slot: Int) {
        let fromBack = slot != 0
        var current = claim.load(ordering: .acquiring)
        while current >> Self.generationShift == generation {
            let front = (current >> Self.partBits) & Self.partMask
            let back = current & Self.partMask
            guard front < back else { return }
            let desired = fromBack ? current &- 1 : current &+ (1 << Self.partBits)
            let (exchanged, original) = claim.compareExchange(
                expected: current, desired: desired, ordering: .acquiringAndReleasing)
            if exchanged {
                job.pointee.body(Int(fromBack ? back - 1 : front), slot)
                finished.add(1, ordering: .releasing)
                current = desired
            } else {
                current = original
            }
        }
    }

    private func workerLoop(_ index: Int) {
        var seen: UInt64 = 0
        while true {
            var spins = 0
            var generation = claim.load(ordering: .acquiring) >> Self.generationShift
            while generation == seen {
                spins += 1
                // Spin only while one inference runs: with several, phases run inline and a
                // spinning worker would take the core another inference needs.
                if spins >= Self.spinLimit || (spins & 1023 == 0 && demand.count > 1) {
                    sleeping.add(1, ordering: .acquiringAndReleasing)
                    // Re-check after announcing the sleep: a job published in between has
                    // either seen the count (and will signal) or is visible here.
                    if claim.load(ordering: .acquiring) >> Self.generationShift == seen { wake.wait() }
                    spins = 0
                }
                generation = claim.load(ordering: .acquiring) >> Self.generationShift
            }
            seen = generation
            if stopped.load(ordering: .acquiring) { return }
            guard index < allowed.load(ordering: .relaxed) else { continue }
            // Like `job`, at least as new as `generation`'s (see below).
            guard index < joiners.load(ordering: .relaxed) else { continue }
            guard let job = UnsafeMutablePointer<Job>(bitPattern: jobBits.load(ordering: .relaxed)) else { continue }
            // `job` may belong to a later job by now; `work` only runs parts whose claim matches
            // `generation`, and those can only be claimed while that job is open, so it was
            // published before it (release on `claim`) and is still alive.
            work(generation: generation, job: job, slot: index + 1)
        }
    }
}

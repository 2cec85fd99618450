import Dispatch
import Synchronization
import Testing

@testable import Inference
@testable import InferenceKernels

#if canImport(Glibc)
import Glibc
#endif

@Suite("Parallel loops")
struct ParallelTests {
    @Test(arguments: [1, 2, 3])
    func rangesCoverEveryIndexOnce(_ threads: Int) {
        let hits = Mutex([Int](repeating: 0, count: 1001))
        ComputePool(threads: threads).run {
            Parallel.forEach(1001, cost: 1 << 10) { range in
                hits.withLock { for i in range { $0[i] += 1 } }
            }
        }
        #expect(hits.withLock { $0.allSatisfy { $0 == 1 } })
    }

    @Test("the worker pool: 3000 jobs in a row, every part exactly once, workers take part")
    func poolRunsEveryPartOnce() {
        let pool = ComputePool(threads: 2)
        let callerThread = pthread_self()
        let otherThreads = Atomic<Int>(0)
        var state: UInt64 = 5
        var jobs = 0
        let started = DispatchTime.now().uptimeNanoseconds
        // 3000 jobs, and more (up to 20 s) until a worker has taken part: on a busy 2-core box
        // the worker thread may not get a core during the first ones.
        while jobs < 3000
            || (otherThreads.load(ordering: .relaxed) == 0
                && DispatchTime.now().uptimeNanoseconds - started < 20_000_000_000)
        {
            jobs += 1
            state = state &* 6_364_136_223_846_793_005 &+ 1
            let count = 2 + Int(state >> 33) % 300
            // Parts are disjoint ranges: each slot has one writer.
            let hits = UnsafeMutableBufferPointer<Int>.allocate(capacity: count)
            defer { hits.deallocate() }
            hits.initialize(repeating: 0)
            pool.run {
                Parallel.forEach(count, cost: 1 << 16) { range in
                    if pthread_self() != callerThread { otherThreads.add(1, ordering: .relaxed) }
                    for i in range { hits[i] += 1 }
                }
            }
            #expect(hits.allSatisfy { $0 == 1 })
        }
        #expect(otherThreads.load(ordering: .relaxed) > 0)
    }

    @Test("slots: every part once, slot below `slots`, never two parts in one slot at once")
    func slotsAreExclusive() {
        for (threads, slots) in [(1, 4), (2, 1), (2, 2), (3, 2), (3, 4)] {
            let pool = ComputePool(threads: threads)
            for _ in 0..<200 {
                let count = 37
                let hits = UnsafeMutableBufferPointer<Int>.allocate(capacity: count)
                defer { hits.deallocate() }
                hits.initialize(repeating: 0)
                let inUse = Atomic<Int>(0)  // bit s: a part runs in slot s
                let violations = Atomic<Int>(0)
                pool.run {
                    Parallel.forEachSlot(count, slots: slots) { i, slot in
                        guard slot < slots, slot >= 0 else {
                            violations.add(1, ordering: .relaxed)
                            return
                        }
                        let bit = 1 << slot
                        if inUse.bitwiseOr(bit, ordering: .acquiring).oldValue & bit != 0 {
                            violations.add(1, ordering: .relaxed)
                        }
                        hits[i] += 1
                        for _ in 0..<200 { _ = inUse.load(ordering: .relaxed) }  // hold the slot a moment
                        inUse.bitwiseAnd(~bit, ordering: .releasing)
                    }
                }
                #expect(violations.load(ordering: .relaxed) == 0, "threads \(threads) slots \(slots)")
                #expect(hits.allSatisfy { $0 == 1 })
            }
        }
    }

    @Test("the caller runs the first parts of a job, workers the last (the same threads the same side, job after job)")
    func callerTakesTheFrontWorkersTheBack() {
        for threads in [2, 3] {
            let pool = ComputePool(threads: threads)
            var workersTookPart = false
            let started = DispatchTime.now().uptimeNanoseconds
            var jobs = 0
            // 500 jobs, and more (up to 20 s) until a worker has taken part: on a busy box the
            // worker may not get a core during the first ones.
            while jobs < 500 || (!workersTookPart && DispatchTime.now().uptimeNanoseconds - started < 20_000_000_000) {
                jobs += 1
                let count = 2 + jobs % 61
                let slotOf = UnsafeMutableBufferPointer<Int>.allocate(capacity: count)
                defer { slotOf.deallocate() }
                slotOf.initialize(repeating: -1)
                pool.run {
                    Parallel.forEachSlot(count, slots: threads) { i, slot in
                        slotOf[i] = slot
                        for _ in 0..<100 { _ = DispatchTime.now() }  // a part long enough to share
                    }
                }
                #expect(slotOf.allSatisfy { $0 >= 0 })
                // Slot 0 (the caller) holds a prefix 0 ..< k, workers the rest.
                let k = slotOf.firstIndex { $0 != 0 } ?? count
                #expect(slotOf[k...].allSatisfy { $0 != 0 }, "\(threads) threads, job \(jobs): \(Array(slotOf))")
                if k < count { workersTookPart = true }
            }
            #expect(workersTookPart)
        }
    }

    @Test("a job of more parts than the claim word holds runs inline, every part once")
    func jobOverMaxPartsRunsInline() {
        let pool = ComputePool(threads: 2)
        let count = ParallelPool.maxParts + 1
        let hits = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: count)
        defer { hits.deallocate() }
        hits.initialize(repeating: 0)
        let caller = pthread_self()
        let elsewhere = Atomic<Int>(0)
        pool.run {
            Parallel.forEachSlot(count, slots: 2) { i, slot in
                if slot != 0 || pthread_self() != caller { elsewhere.add(1, ordering: .relaxed) }
                hits[i] &+= 1
            }
        }
        #expect(hits.allSatisfy { $0 == 1 })
        #expect(elsewhere.load(ordering: .relaxed) == 0)
    }

    @Test("two callers at once and nested loops: the busy pool falls back, nothing is lost")
    func concurrentAndNestedCallers() {
        // 8 threads: with 4 callers each still gets 2, so they contend for the workers.
        let pool = ComputePool(threads: 8)
        let total = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 4) { caller in
            pool.run {
                for job in 0..<300 {
                    Parallel.forEach(64, cost: 1 << 16) { range in
                        for _ in range {
                            if (job + caller) % 7 == 0 {
                                // A nested loop inside a part (the pool is busy: GCD runs it).
                                Parallel.forEach(8, cost: 1 << 16) { inner in total.add(inner.count, ordering: .relaxed)
                                }
                            } else {
                                total.add(8, ordering: .relaxed)
                            }
                        }
                    }
                }
            }
        }
        #expect(total.load(ordering: .relaxed) == 4 * 300 * 64 * 8)
    }

    @Test func convolutionAgreesOnTwoThreads() throws {
        let shape = FeatureShape(channels: 16, height: 40, width: 40)
        let cfg = "[convolutional]\nfilters=40\nsize=3\npad=1\nactivation=leaky\n[shortcut]\nfrom=-1\n"
        let layers = try makeLayers(input: shape, "[convolutional]\nfilters=16\nsize=1\n" + cfg)
        var rng = DetTestRandom(seed: 17)
        let conv = try layers[1].loadingWeights(rng.floats(layers[1].weightCount))
        let input = rng.floats(shape.count)
        let serial = ComputePool(threads: 1).run { runLayer(conv, index: 1, buffers: [[], input]) }
        let parallel = ComputePool(threads: 2).run { runLayer(conv, index: 1, buffers: [[], input]) }
        // Column panels may take different OpenBLAS edge kernels: equal up to rounding.
        #expect(maxRelativeError(parallel, serial) < 1e-5)
    }
}

@Suite("Threads adapt to the inferences running at once")
struct AdaptiveThreadsTests {
    @Test("a lone inference gets every configured thread; several at once share them, at least one each")
    func share() {
        #expect(Parallel.share(configured: 2, running: 0) == 2)
        #expect(Parallel.share(configured: 2, running: 1) == 2)
        #expect(Parallel.share(configured: 2, running: 2) == 1)
        #expect(Parallel.share(configured: 2, running: 7) == 1)
        #expect(Parallel.share(configured: 8, running: 3) == 2)
        #expect(Parallel.share(configured: 1, running: 1) == 1)
    }

    @Test("a pool's threads apply inside its runs only; two pools at once do not see each other")
    func poolsAreIndependent() {
        let three = ComputePool(threads: 3)
        let one = ComputePool(threads: 1)
        #expect(Parallel.threads == 1, "outside any pool a loop runs inline")
        let seen = Mutex<[Int: Set<Int>]>([:])
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            let pool = i == 0 ? three : one
            for _ in 0..<200 {
                // Alone in its pool: every thread of that pool, whatever the other pool runs.
                let t = pool.run { Parallel.threads }
                seen.withLock { $0[pool.threads, default: []].insert(t) }
            }
        }
        #expect(seen.withLock { $0 } == [3: [3], 1: [1]])
        #expect(Parallel.threads == 1)
        // Nested runs restore the outer pool.
        three.run {
            one.run { #expect(Parallel.threads == 1) }
            #expect(Parallel.threads == 3)
        }
    }

    @Test("requests taken in and inferences running share a pool's threads")
    func demandSplitsThePool() {
        let pool = ComputePool(threads: 4)
        #expect(pool.run { Parallel.threads } == 4)
        pool.requestStarted()
        pool.requestStarted()
        #expect(pool.run { Parallel.threads } == 2, "two requests taken in: half each")
        pool.requestEnded()
        pool.requestEnded()
        pool.run { pool.run { #expect(Parallel.threads == 2, "two inferences running") } }
    }

    @Test("after shutdown the workers are gone and loops still cover every index, inline")
    func shutdownStopsWorkers() {
        let pool = ComputePool(threads: 2)
        let callerThread = pthread_self()
        pool.shutdown()
        let others = Atomic<Int>(0)
        let hits = Mutex([Int](repeating: 0, count: 4096))
        for _ in 0..<50 {
            pool.run {
                Parallel.forEach(4096, cost: 1 << 16) { range in
                    if pthread_self() != callerThread { others.add(1, ordering: .relaxed) }
                    hits.withLock { for i in range { $0[i] += 1 } }
                }
            }
        }
        #expect(others.load(ordering: .relaxed) == 0)
        #expect(hits.withLock { $0.allSatisfy { $0 == 50 } })
    }
}

import Synchronization
import Testing

@testable import Inference

@Suite("Parallel loops")
struct ParallelTests {
    @Test(arguments: [1, 2, 3])
    func rangesCoverEveryIndexOnce(_ threads: Int) {
        let before = Parallel.threads
        Parallel.setThreads(threads)
        defer { Parallel.setThreads(before) }
        let hits = Mutex([Int](repeating: 0, count: 1001))
        Parallel.forEach(1001, cost: 1 << 10) { range in
            hits.withLock { for i in range { $0[i] += 1 } }
        }
        #expect(hits.withLock { $0.allSatisfy { $0 == 1 } })
    }

    @Test func convolutionAgreesOnTwoThreads() throws {
        let shape = FeatureShape(channels: 16, height: 40, width: 40)
        let cfg = "[convolutional]\nfilters=40\nsize=3\npad=1\nactivation=leaky\n[shortcut]\nfrom=-1\n"
        let layers = try makeLayers(input: shape, "[convolutional]\nfilters=16\nsize=1\n" + cfg)
        var rng = DetTestRandom(seed: 17)
        let conv = try layers[1].loadingWeights(rng.floats(layers[1].weightCount))
        let input = rng.floats(shape.count)
        let before = Parallel.threads
        Parallel.setThreads(1)
        let serial = runLayer(conv, index: 1, buffers: [[], input])
        Parallel.setThreads(2)
        let parallel = runLayer(conv, index: 1, buffers: [[], input])
        Parallel.setThreads(before)
        // Column panels may take different OpenBLAS edge kernels: equal up to rounding.
        #expect(maxRelativeError(parallel, serial) < 1e-5)
    }
}

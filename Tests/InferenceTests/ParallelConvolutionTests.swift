import Testing

@testable import Inference
@testable import InferenceKernels

/// The Winograd (several filter blocks) and depthwise (several workspace slots) kernels give the
/// same answer on one and two threads, on shapes big enough that every parallel loop is split.
@Suite("Convolution kernels on two threads")
struct ParallelConvolutionTests {
    /// Runs `layer` on one thread, then on two.
    private func serialAndParallel(_ layer: any DarknetLayer, _ input: [Float]) -> ([Float], [Float]) {
        let serial = ComputePool(threads: 1).run { runLayer(layer, index: 0, buffers: [input]) }
        let parallel = ComputePool(threads: 2).run { runLayer(layer, index: 0, buffers: [input]) }
        return (serial, parallel)
    }

    /// 128 → 54 filters @32×32 (F(4×4)) in three blocks (24, 24 and 6 filters: each block's
    /// products split over the threads), and 64 → 70 filters in nine blocks of 8 (6 the last: one
    /// block per part, in two slots; on three threads the shared path), against the naive reference too.
    @Test(arguments: [(128, 32, 54, 24, 3), (64, 20, 70, 8, 9)])
    func winogradFilterBlocksOnTwoThreads(_ c: Int, _ side: Int, _ n: Int, _ block: Int, _ blocks: Int) throws {
        let shape = FeatureShape(channels: c, height: side, width: side)
        var rng = DetTestRandom(seed: UInt64(29 + n))
        let input = rng.floats(shape.count)
        let weights = rng.floats(n * c * 9, in: -0.1...0.1)
        let bias = rng.floats(n)
        let plan = WinogradConvolution.Plan(
            tile: .f4, channels: c, filters: n, outHeight: side, outWidth: side, filterBlock: block)
        #expect(plan.filterBlocks == blocks && plan.filtersPerBlock == block)
        #expect(plan.slots == min(WinogradConvolution.slots, blocks))
        let packed = weights.withUnsafeBufferPointer {
            WinogradConvolution.packWeights($0.baseAddress!, filters: n, channels: c)
        }
        func run(threads: Int) -> [Float] { ComputePool(threads: threads).run { runInPool() } }
        func runInPool() -> [Float] {
            var workspace = [Float](repeating: .nan, count: plan.workspaceSize)
            var out = [Float](repeating: .nan, count: n * side * side)
            input.withUnsafeBufferPointer { x in
                packed.withUnsafeBufferPointer { w in
                    bias.withUnsafeBufferPointer { b in
                        out.withUnsafeMutableBufferPointer { o in
                            workspace.withUnsafeMutableBufferPointer { ws in
                                WinogradConvolution.run(
                                    tile: .f4, input: x.baseAddress!, channels: c, height: side, width: side, pad: 1,
                                    weights: w.baseAddress!, bias: b.baseAddress!, filters: n, activation: .leaky,
                                    output: o.baseAddress!, outHeight: side, outWidth: side, workspace: ws.baseAddress!,
                                    filterBlock: block)
                            }
                        }
                    }
                }
            }
            return out
        }
        let serial = run(threads: 1)
        let parallel = run(threads: 2)
        #expect(serial == parallel)
        // More threads than slots: the shared path, every thread working.
        #expect(run(threads: 3) == serial)
        let want = naiveConvolution(
            input: input, shape: shape, weights: weights, bias: bias, filters: n,
            size: 3, stride: 1, pad: 1, groups: 1, activation: .leaky)
        #expect(maxErrorOverMagnitude(parallel, want) < 1e-4)
    }

    /// PanelConvolution, 1×1 and 3×3 stride 2 (more channels than `DirectConvolution` takes at
    /// stride 2, and mish, which `StridedConvolution` does not apply): several parts of the output pixels in their own slots, the same on one and two threads,
    /// and the naive reference.
    @Test(arguments: [(1, 1), (3, 2)])
    func panelConvolutionOnTwoThreads(_ size: Int, _ stride: Int) throws {
        let (c, n) = (128, 45)
        let shape = FeatureShape(channels: c, height: 40, width: 41)
        let cfg = "[convolutional]\nfilters=\(n)\nsize=\(size)\nstride=\(stride)\npad=1\nactivation=mish\n"
        let layer = try #require(try makeLayers(input: shape, cfg)[0] as? ConvolutionalLayer)
        #expect(layer.panel)
        let pixels = layer.outputShape.height * layer.outputShape.width
        #expect(pixels > 2 * PanelGemm.columns * PanelConvolution.panelsPerPart(k: c * size * size, pixels: pixels))
        let (serial, parallel, want) = try onOneAndTwoThreads(
            layer, seed: UInt64(size * 10 + stride + 100), weights: -0.1...0.1)
        #expect(serial == parallel)
        #expect(maxRelativeError(parallel, want) < 1e-4)
    }

    /// DirectConvolution at stride 2 with many channels (yolov8n's downsampling layers, scaled
    /// down): filter counts not a multiple of its 8-filter blocks, odd sizes, with and without
    /// padding, swish (over finished rows), leaky and linear (in registers), up to one channel
    /// fewer than `StridedConvolution` takes; the same on one and two threads, and the naive reference.
    @Test(arguments: [
        (16, 35, 40, 41, 1, Activation.swish), (24, 19, 23, 17, 0, .leaky),
        (StridedConvolution.minChannels - 1, 24, 12, 13, 1, .linear), (5, 8, 9, 30, 1, .swish),
    ])
    func directStride2OnTwoThreads(
        _ c: Int, _ n: Int, _ h: Int, _ w: Int, _ pad: Int, _ activation: Activation
    ) throws {
        let shape = FeatureShape(channels: c, height: h, width: w)
        let cfg =
            "[convolutional]\nfilters=\(n)\nsize=3\nstride=2\npadding=\(pad)\nactivation=\(activation.rawValue)\n"
        let layer = try #require(try makeLayers(input: shape, cfg)[0] as? ConvolutionalLayer)
        #expect(layer.direct && !layer.panel && layer.weightLayout == "plain")
        let (serial, parallel, want) = try onOneAndTwoThreads(
            layer, seed: UInt64(c * 100 + n), weights: -0.2...0.2)
        #expect(serial == parallel)
        #expect(maxRelativeError(parallel, want) < 1e-4)
    }

    /// StridedConvolution through the layer (yolov8n's 64→128, 128→256 and 32→64 downsampling
    /// layers, scaled down): weights packed at load (and read back by `unpackedWeights`), filter
    /// counts not a multiple of 8, odd sizes, with and without padding, swish, leaky and relu in
    /// registers; the same on one and two threads, and the naive reference.
    @Test(arguments: [
        (64, 37, 20, 21, 1, Activation.swish), (StridedConvolution.minChannels, 8, 9, 30, 0, .leaky),
        (StridedConvolution.maxChannels, 20, 11, 13, 1, .relu),
    ])
    func stridedOnTwoThreads(
        _ c: Int, _ n: Int, _ h: Int, _ w: Int, _ pad: Int, _ activation: Activation
    ) throws {
        let shape = FeatureShape(channels: c, height: h, width: w)
        let cfg =
            "[convolutional]\nfilters=\(n)\nsize=3\nstride=2\npadding=\(pad)\nactivation=\(activation.rawValue)\n"
        let layer = try #require(try makeLayers(input: shape, cfg)[0] as? ConvolutionalLayer)
        #expect(layer.strided && !layer.direct && !layer.panel && layer.weightLayout == "strided8")
        let (serial, parallel, want) = try onOneAndTwoThreads(
            layer, seed: UInt64(c * 100 + n + 7), weights: -0.2...0.2)
        #expect(serial == parallel)
        #expect(maxRelativeError(parallel, want) < 1e-4)
    }

    /// Depthwise 3×3 and 5×5, stride 1 and 2, 70 channels (slots of 17 and 18) @40×40.
    @Test(arguments: [(3, 1), (3, 2), (5, 1), (5, 2)])
    func depthwiseOnTwoThreads(_ size: Int, _ stride: Int) throws {
        let c = 70
        let shape = FeatureShape(channels: c, height: 40, width: 40)
        let cfg =
            "[convolutional]\nfilters=\(c)\ngroups=\(c)\nsize=\(size)\nstride=\(stride)\npad=1\nactivation=leaky\n"
        let layer = try #require(try makeLayers(input: shape, cfg)[0] as? ConvolutionalLayer)
        #expect(layer.isDepthwise)
        let (serial, parallel, want) = try onOneAndTwoThreads(layer, seed: UInt64(size * 10 + stride))
        #expect(serial == parallel)
        #expect(maxRelativeError(parallel, want) < 1e-4)
    }

    /// `layer` loaded with seeded random weights (in `range`) on a seeded random input: its
    /// output on one thread, on two, and the naive convolution of the same weights.
    private func onOneAndTwoThreads(
        _ layer: ConvolutionalLayer, seed: UInt64, weights range: ClosedRange<Float> = -1...1
    ) throws -> (serial: [Float], parallel: [Float], naive: [Float]) {
        var rng = DetTestRandom(seed: seed)
        let loaded = try #require(
            try layer.loadingWeights(rng.floats(layer.weightCount, in: range)) as? ConvolutionalLayer)
        let input = rng.floats(layer.input.count)
        let (serial, parallel) = serialAndParallel(loaded, input)
        let naive = naiveConvolution(
            input: input, shape: layer.input, weights: loaded.unpackedWeights, bias: loaded.bias,
            filters: layer.filters,
            size: layer.size, stride: layer.stride, pad: layer.pad, groups: layer.groups, activation: layer.activation)
        return (serial, parallel, naive)
    }
}

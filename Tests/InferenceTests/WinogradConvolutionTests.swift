import Testing

@testable import Inference
@testable import InferenceKernels

struct WinogradCase: CustomTestStringConvertible, Sendable {
    var c, h, w, filters, pad: Int
    var activation: Activation = .leaky
    /// V + M budget of one block of tile rows; small values force several blocks.
    var blockFloats = WinogradConvolution.blockFloats
    /// Most filters in one block; fewer than `filters` forces several filter blocks.
    var filterBlock = WinogradConvolution.filterBlock
    /// Whether a residual (of the output's shape) is added after the activation.
    var residual = false
    var testDescription: String {
        "c\(c) \(h)x\(w) n\(filters) p\(pad) \(activation) block \(blockFloats) filters/block \(filterBlock)"
            + (residual ? " residual" : "")
    }
}

/// A random problem of a ``WinogradCase`` and the naive convolution's answer to it.
struct WinogradProblem {
    var input: [Float]
    var weights: [Float]
    var bias: [Float]
    var residual: [Float]
    var want: [Float]

    init(_ t: WinogradCase, seed: UInt64, weights range: ClosedRange<Float> = -1...1) {
        var rng = DetTestRandom(seed: seed)
        let shape = FeatureShape(channels: t.c, height: t.h, width: t.w)
        input = rng.floats(shape.count)
        weights = rng.floats(t.filters * t.c * 9, in: range)
        bias = rng.floats(t.filters)
        want = naiveConvolution(
            input: input, shape: shape, weights: weights, bias: bias, filters: t.filters,
            size: 3, stride: 1, pad: t.pad, groups: 1, activation: t.activation)
        residual = t.residual ? rng.floats(want.count) : []
        if t.residual { for i in want.indices { want[i] += residual[i] } }
    }
}

/// Largest |a − b| over the largest |b| (at least 1): Winograd's error grows with the magnitude
/// of the whole output, not of each element.
func maxErrorOverMagnitude(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    let scale = max(1, b.map { abs($0) }.max() ?? 0)
    var worst: Float = 0
    for i in a.indices {
        let d = abs(a[i] - b[i])
        if !(d <= worst) { worst = d.isNaN ? .infinity : d }
    }
    return worst / scale
}

@Suite("Winograd 3×3 convolution against a naive reference")
struct WinogradConvolutionTests {
    /// Odd and even maps (1×1 to 13×13 and rows wider than one 8-tile group), 1–37 channels,
    /// 1–19 filters, pad 1 and 0, every activation, blocks of one or two tile rows, and blocks of
    /// filters that do and do not divide the filters (with one or several tile-row blocks).
    static let cases: [WinogradCase] = [
        WinogradCase(c: 1, h: 1, w: 1, filters: 1, pad: 1),
        WinogradCase(c: 3, h: 2, w: 3, filters: 2, pad: 1, activation: .linear),
        WinogradCase(c: 2, h: 3, w: 3, filters: 5, pad: 0),
        WinogradCase(c: 5, h: 7, w: 5, filters: 3, pad: 1, activation: .relu),
        WinogradCase(c: 4, h: 7, w: 5, filters: 7, pad: 0, activation: .mish),
        WinogradCase(c: 16, h: 13, w: 13, filters: 16, pad: 1),
        WinogradCase(c: 37, h: 13, w: 13, filters: 19, pad: 0, activation: .logistic),
        WinogradCase(c: 9, h: 6, w: 8, filters: 11, pad: 1, activation: .linear),
        WinogradCase(c: 8, h: 4, w: 37, filters: 4, pad: 1),
        WinogradCase(c: 3, h: 11, w: 70, filters: 6, pad: 0, activation: .relu),
        WinogradCase(c: 6, h: 17, w: 9, filters: 5, pad: 1, blockFloats: 1),
        WinogradCase(c: 7, h: 19, w: 35, filters: 8, pad: 1, activation: .linear, blockFloats: 36 * 15 * 20),
        WinogradCase(c: 16, h: 13, w: 13, filters: 19, pad: 1, filterBlock: 8),
        WinogradCase(c: 9, h: 10, w: 11, filters: 12, pad: 1, activation: .linear, filterBlock: 4),
        WinogradCase(c: 5, h: 9, w: 18, filters: 11, pad: 0, activation: .relu, filterBlock: 1),
        WinogradCase(c: 13, h: 17, w: 21, filters: 10, pad: 1, blockFloats: 36 * 20 * 12, filterBlock: 3),
        // Swish (SiLU, every ONNX YOLO layer): with AVX-512 it runs over each finished tile row,
        // then the residual; odd maps so that the last tile row and column are clipped.
        WinogradCase(c: 9, h: 11, w: 21, filters: 12, pad: 1, activation: .swish),
        WinogradCase(c: 6, h: 13, w: 10, filters: 9, pad: 1, activation: .swish, residual: true),
        WinogradCase(c: 5, h: 9, w: 35, filters: 8, pad: 0, activation: .swish, blockFloats: 1, residual: true),
        WinogradCase(c: 4, h: 7, w: 9, filters: 6, pad: 1, activation: .leaky, residual: true),
    ]

    static let isas = KernelISA.detected == .avx512 ? [KernelISA.avx2, .avx512] : [.avx2]

    @Test(arguments: cases, WinogradConvolution.Tile.allCases)
    func matchesNaive(_ t: WinogradCase, _ tile: WinogradConvolution.Tile) {
        let p = WinogradProblem(t, seed: UInt64(t.c * 7919 + t.h * 31 + t.w + t.filters * 101 + tile.rawValue))
        for isa in Self.isas { check(t, tile, isa, p.input, p.weights, p.bias, p.residual, p.want) }
    }

    func check(
        _ t: WinogradCase, _ tile: WinogradConvolution.Tile, _ isa: KernelISA, _ input: [Float], _ weights: [Float],
        _ bias: [Float], _ residual: [Float], _ want: [Float]
    ) {
        let oh = t.h + 2 * t.pad - 2
        let ow = t.w + 2 * t.pad - 2
        let workspaceSize = WinogradConvolution.workspaceSize(
            tile: tile, channels: t.c, filters: t.filters, outHeight: oh, outWidth: ow, blockFloats: t.blockFloats,
            filterBlock: t.filterBlock)
        // NaN everywhere the kernel should not read before writing: a stray read poisons the output.
        var workspace = [Float](repeating: .nan, count: workspaceSize)
        var got = [Float](repeating: .nan, count: t.filters * oh * ow)
        let packed = weights.withUnsafeBufferPointer {
            WinogradConvolution.packWeights($0.baseAddress!, filters: t.filters, channels: t.c)
        }
        input.withUnsafeBufferPointer { x in
            packed.withUnsafeBufferPointer { up in
                bias.withUnsafeBufferPointer { b in
                    got.withUnsafeMutableBufferPointer { out in
                        workspace.withUnsafeMutableBufferPointer { ws in
                            residual.withUnsafeBufferPointer { r in
                                WinogradConvolution.run(
                                    tile: tile, input: x.baseAddress!, channels: t.c, height: t.h, width: t.w,
                                    pad: t.pad, weights: up.baseAddress!, bias: b.baseAddress!, filters: t.filters,
                                    activation: t.activation, output: out.baseAddress!, outHeight: oh, outWidth: ow,
                                    residual: t.residual ? r.baseAddress! : nil, workspace: ws.baseAddress!,
                                    blockFloats: t.blockFloats, filterBlock: t.filterBlock, isa: isa)
                            }
                        }
                    }
                }
            }
        }
        #expect(maxErrorOverMagnitude(got, want) < 1e-4, "\(isa)")
    }

    @Test func blocksOfTileRowsPartitionTheMap() {
        let plan = WinogradConvolution.Plan(
            tile: .f4, channels: 7, filters: 8, outHeight: 19, outWidth: 35, blockFloats: 36 * 15 * 20)
        #expect(plan.tilesX == 9 && plan.tilesY == 5)
        #expect(plan.rowsPerBlock == 2)  // 36·15 floats per tile, 20 tiles fit, 9 tiles a row
        #expect(plan.blockStride >= plan.rowsPerBlock * plan.tilesX + 8)
        #expect(plan.tilePanels * PanelGemm.columns >= plan.rowsPerBlock * plan.tilesX)
        #expect(plan.blockStride >= plan.tilePanels * PanelGemm.columns)
        let whole = WinogradConvolution.Plan(tile: .f2, channels: 7, filters: 8, outHeight: 19, outWidth: 35)
        #expect(whole.rowsPerBlock == whole.tilesY)
    }

    @Test func filterBlocksPartitionTheFilters() {
        // 19 filters, at most 8 a block: three blocks of 7, 7 and 5, rounded up to groups of 8:
        // blocks of 8, 8 and 3.
        let plan = WinogradConvolution.Plan(
            tile: .f2, channels: 16, filters: 19, outHeight: 13, outWidth: 13, filterBlock: 8)
        #expect(plan.filtersPerBlock == 8 && plan.filterBlocks == 3)
        // 40 filters, at most 16 a block: three blocks of 14 → 16, 16 and 8.
        let three = WinogradConvolution.Plan(
            tile: .f2, channels: 16, filters: 40, outHeight: 13, outWidth: 13, filterBlock: 16)
        #expect(three.filtersPerBlock == 16 && three.filterBlocks == 3)
        let one = WinogradConvolution.Plan(tile: .f4, channels: 16, filters: 19, outHeight: 13, outWidth: 13)
        #expect(one.filtersPerBlock == 24 && one.filterBlocks == 1)
        // yolov3's widest 3×3 layers: the per-call workspace stays bounded (16 MB at most) and
        // does not grow with the filters beyond one block.
        for (c, n, side, tile) in [
            (512, 1024, 13, WinogradConvolution.Tile.f2), (256, 512, 26, .f4), (128, 256, 52, .f4), (32, 64, 208, .f4),
        ] {
            let size = WinogradConvolution.workspaceSize(
                tile: tile, channels: c, filters: n, outHeight: side, outWidth: side)
            #expect(size <= 4 << 20, "\(c)→\(n) @\(side): \(size) floats")
        }
    }

    /// A convolutional layer that dispatches to Winograd (batch-norm folded first) against the
    /// naive reference on its folded weights, through `runLayer` (the layer's own workspace size).
    @Test(arguments: [(16, 9, 11, 16), (24, 26, 21, 32)])
    func layerDispatchMatchesNaive(_ c: Int, _ h: Int, _ w: Int, _ n: Int) throws {
        let shape = FeatureShape(channels: c, height: h, width: w)
        let cfg = "[convolutional]\nbatch_normalize=1\nfilters=\(n)\nsize=3\nstride=1\npad=1\nactivation=leaky\n"
        let layer = try #require(try makeLayers(input: shape, cfg)[0] as? ConvolutionalLayer)
        #expect(layer.winograd == ConvolutionalLayer.winogradTile(channels: c, filters: n, outHeight: h, outWidth: w))
        #expect(layer.winograd != nil)
        var rng = DetTestRandom(seed: UInt64(c * h + w))
        let floats =
            rng.floats(n) + rng.floats(n, in: 0.5...1.5) + rng.floats(n) + rng.floats(n, in: 0.1...2)
            + rng.floats(n * c * 9, in: -0.3...0.3)
        let loaded = try #require(try layer.loadingWeights(floats) as? ConvolutionalLayer)
        // Only the folded weights are kept (regrouped): the Winograd transform runs per call.
        #expect(loaded.weights.count == (n + 7) / 8 * 8 * c * 9)
        #expect(loaded.unpackedWeights.count == n * c * 9)
        let input = rng.floats(shape.count)
        let got = runLayer(loaded, index: 0, buffers: [input])
        let want = naiveConvolution(
            input: input, shape: shape, weights: loaded.unpackedWeights, bias: loaded.bias, filters: n,
            size: 3, stride: 1, pad: 1, groups: 1, activation: .leaky)
        #expect(maxErrorOverMagnitude(got, want) < 1e-4)
    }

    @Test func dispatchRule() throws {
        // Few channels or filters, strides, groups and other kernel sizes stay on im2col + GEMM.
        #expect(ConvolutionalLayer.winogradTile(channels: 3, filters: 32, outHeight: 416, outWidth: 416) == nil)
        #expect(ConvolutionalLayer.winogradTile(channels: 256, filters: 8, outHeight: 52, outWidth: 52) == nil)
        #expect(ConvolutionalLayer.winogradTile(channels: 128, filters: 256, outHeight: 52, outWidth: 52) != nil)
        let shape = FeatureShape(channels: 32, height: 20, width: 20)
        for section in [
            "size=3\nstride=2\npad=1", "size=3\nstride=1\npad=1\ngroups=2", "size=1\nstride=1",
            "size=5\nstride=1\npad=1",
        ] {
            let layer = try #require(
                try makeLayers(input: shape, "[convolutional]\nfilters=32\n\(section)\n")[0] as? ConvolutionalLayer)
            #expect(layer.winograd == nil, "\(section)")
        }
    }
}

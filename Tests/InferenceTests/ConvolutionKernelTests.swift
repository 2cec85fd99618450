import Testing

@testable import Inference
@testable import InferenceKernels

/// Naive grouped convolution, Darknet's definition, in Double.
func naiveConvolution(
    input: [Float], shape: FeatureShape, weights: [Float], bias: [Float],
    filters: Int, size: Int, stride: Int, pad: Int, groups: Int, activation: Activation
) -> [Float] {
    let oh = (shape.height + 2 * pad - size) / stride + 1
    let ow = (shape.width + 2 * pad - size) / stride + 1
    let cg = shape.channels / groups
    let ng = filters / groups
    var out = [Float](repeating: 0, count: filters * oh * ow)
    for f in 0..<filters {
        let g = f / ng
        for y in 0..<oh {
            for x in 0..<ow {
                var acc = Double(bias[f])
                for c in 0..<cg {
                    for ky in 0..<size {
                        for kx in 0..<size {
                            let iy = y * stride - pad + ky
                            let ix = x * stride - pad + kx
                            guard iy >= 0, iy < shape.height, ix >= 0, ix < shape.width else { continue }
                            let v = input[((g * cg + c) * shape.height + iy) * shape.width + ix]
                            acc += Double(weights[((f * cg + c) * size + ky) * size + kx]) * Double(v)
                        }
                    }
                }
                out[(f * oh + y) * ow + x] = Float(referenceActivation(activation, acc))
            }
        }
    }
    return out
}

struct ConvCase: CustomTestStringConvertible, Sendable {
    var c, h, w, filters, size, stride, pad, groups: Int
    var activation: Activation = .leaky
    var testDescription: String { "c\(c) \(h)x\(w) n\(filters) k\(size) s\(stride) p\(pad) g\(groups) \(activation)" }
}

@Suite("Convolution kernels against a naive reference")
struct ConvolutionKernelTests {
    static let cases: [ConvCase] = [
        ConvCase(c: 3, h: 7, w: 9, filters: 5, size: 3, stride: 1, pad: 1, groups: 1),
        ConvCase(c: 3, h: 16, w: 16, filters: 8, size: 3, stride: 2, pad: 1, groups: 1),
        ConvCase(c: 4, h: 11, w: 5, filters: 6, size: 1, stride: 1, pad: 0, groups: 1, activation: .linear),
        ConvCase(c: 6, h: 9, w: 13, filters: 4, size: 1, stride: 2, pad: 0, groups: 2, activation: .relu),
        ConvCase(c: 8, h: 13, w: 17, filters: 8, size: 3, stride: 1, pad: 1, groups: 8, activation: .linear),
        ConvCase(c: 8, h: 13, w: 17, filters: 8, size: 3, stride: 2, pad: 1, groups: 8),
        ConvCase(c: 5, h: 12, w: 23, filters: 5, size: 5, stride: 1, pad: 2, groups: 5, activation: .mish),
        ConvCase(c: 4, h: 10, w: 10, filters: 4, size: 5, stride: 2, pad: 2, groups: 4, activation: .logistic),
        ConvCase(c: 3, h: 9, w: 9, filters: 3, size: 3, stride: 3, pad: 0, groups: 3),
        ConvCase(c: 4, h: 8, w: 6, filters: 8, size: 3, stride: 1, pad: 0, groups: 2),
        ConvCase(c: 2, h: 5, w: 3, filters: 3, size: 3, stride: 1, pad: 2, groups: 1),
        ConvCase(c: 16, h: 19, w: 31, filters: 7, size: 3, stride: 1, pad: 1, groups: 1, activation: .mish),
        // Depthwise edges: a one-column image, no padding at stride 2, an image narrower than the kernel.
        ConvCase(c: 4, h: 9, w: 1, filters: 4, size: 3, stride: 2, pad: 1, groups: 4),
        ConvCase(c: 4, h: 10, w: 12, filters: 4, size: 3, stride: 2, pad: 0, groups: 4, activation: .linear),
        ConvCase(c: 3, h: 6, w: 2, filters: 3, size: 5, stride: 1, pad: 2, groups: 3),
        ConvCase(c: 3, h: 7, w: 3, filters: 3, size: 5, stride: 2, pad: 2, groups: 3, activation: .relu),
        // Depthwise 3×3 stride 1 in blocks of 4 rows × 16 columns: no padding, widths of exactly
        // 8 and 16, a width of 17 (one column in the last block), heights of 4 + 1 and 4 + 3.
        ConvCase(c: 5, h: 9, w: 21, filters: 5, size: 3, stride: 1, pad: 0, groups: 5),
        ConvCase(c: 3, h: 5, w: 8, filters: 3, size: 3, stride: 1, pad: 1, groups: 3, activation: .linear),
        ConvCase(c: 3, h: 7, w: 16, filters: 3, size: 3, stride: 1, pad: 1, groups: 3),
        ConvCase(c: 2, h: 11, w: 17, filters: 2, size: 3, stride: 1, pad: 1, groups: 2, activation: .relu),
        // Direct 3×3 (≤ 4 input channels), 8 filters per block: 17 filters (a block of 1), odd
        // sizes at stride 2, no padding, one channel, an activation it leaves to the layer.
        ConvCase(c: 3, h: 13, w: 19, filters: 17, size: 3, stride: 2, pad: 1, groups: 1),
        ConvCase(c: 4, h: 9, w: 10, filters: 9, size: 3, stride: 2, pad: 0, groups: 1, activation: .relu),
        ConvCase(c: 1, h: 6, w: 25, filters: 8, size: 3, stride: 1, pad: 0, groups: 1, activation: .linear),
        ConvCase(c: 3, h: 10, w: 12, filters: 4, size: 3, stride: 1, pad: 1, groups: 1, activation: .logistic),
        // Direct with swish (yolov8n's input layer), applied over each finished row: 9 filters
        // (a group of 1), a width that ends mid-vector.
        ConvCase(c: 3, h: 12, w: 37, filters: 9, size: 3, stride: 2, pad: 1, groups: 1, activation: .swish),
        ConvCase(c: 2, h: 7, w: 21, filters: 16, size: 3, stride: 1, pad: 1, groups: 1, activation: .swish),
        // PanelConvolution (more than 32 filters and a reduction longer than 64): 1×1, strided
        // 1×1 and 3×3, 3×3 stride 1 below Winograd's 16 channels, odd filter counts (A's last
        // panel partial), maps whose pixels end mid-panel, and one of several parts.
        ConvCase(c: 80, h: 7, w: 9, filters: 37, size: 1, stride: 1, pad: 0, groups: 1),
        ConvCase(c: 70, h: 9, w: 13, filters: 33, size: 1, stride: 2, pad: 0, groups: 1, activation: .linear),
        ConvCase(c: 16, h: 13, w: 11, filters: 35, size: 3, stride: 2, pad: 1, groups: 1),
        ConvCase(c: 8, h: 9, w: 14, filters: 40, size: 3, stride: 1, pad: 1, groups: 1, activation: .relu),
        ConvCase(c: 9, h: 6, w: 5, filters: 34, size: 3, stride: 2, pad: 0, groups: 1, activation: .mish),
        // Skinny products with swish go to panels too (`activatesInPanels`): 1×1 with a short
        // reduction, 3×3 stride 2 with 32 filters (yolov8n's second layer), and 8 filters.
        ConvCase(c: 24, h: 11, w: 13, filters: 16, size: 1, stride: 1, pad: 0, groups: 1, activation: .swish),
        ConvCase(c: 16, h: 15, w: 30, filters: 32, size: 3, stride: 2, pad: 1, groups: 1, activation: .swish),
        ConvCase(c: 5, h: 9, w: 7, filters: 8, size: 3, stride: 2, pad: 1, groups: 1, activation: .swish),
        ConvCase(c: 6, h: 5, w: 7, filters: 7, size: 1, stride: 1, pad: 0, groups: 1, activation: .swish),
        ConvCase(c: 72, h: 40, w: 41, filters: 36, size: 1, stride: 1, pad: 0, groups: 1),
        // Rows wide enough for the stride-2 unfold's vector path, with and without padding.
        ConvCase(c: 8, h: 9, w: 70, filters: 40, size: 3, stride: 2, pad: 1, groups: 1),
        ConvCase(c: 8, h: 7, w: 53, filters: 41, size: 3, stride: 2, pad: 0, groups: 1, activation: .linear),
        // 3×3 stride 2 with more channels than StridedConvolution takes: PanelConvolution.
        ConvCase(c: 130, h: 7, w: 9, filters: 35, size: 3, stride: 2, pad: 1, groups: 1),
        ConvCase(c: 129, h: 6, w: 11, filters: 33, size: 3, stride: 2, pad: 0, groups: 1, activation: .swish),
        // DirectConvolution at stride 2 with more channels: 7 filters (a part block), 1 row, a
        // 1-pixel-wide output; 128 channels (panels).
        ConvCase(c: 24, h: 2, w: 37, filters: 7, size: 3, stride: 2, pad: 1, groups: 1, activation: .swish),
        ConvCase(c: 17, h: 11, w: 3, filters: 12, size: 3, stride: 2, pad: 0, groups: 1, activation: .linear),
        ConvCase(c: 128, h: 10, w: 9, filters: 20, size: 3, stride: 2, pad: 1, groups: 1, activation: .mish),
    ]

    @Test func panelDispatch() throws {
        let shape = FeatureShape(channels: 80, height: 7, width: 9)
        for (section, panel) in [
            ("filters=37\nsize=1", true), ("filters=37\nsize=3\nstride=2\npad=1", false),
            ("filters=32\nsize=1", false), ("filters=64\nsize=3\npad=1", false),
            ("filters=40\nsize=1\ngroups=2", false),
        ] {
            // Leaky (piecewise linear): the shape alone decides (see the swish cases below).
            let layer = try #require(
                try makeLayers(input: shape, "[convolutional]\n\(section)\nactivation=leaky\n")[0]
                    as? ConvolutionalLayer)
            #expect(layer.panel == panel, "\(section)")
        }
        // 3×3 stride 2 runs direct below `StridedConvolution.minChannels`, strided from there;
        // at stride 1 direct up to 4 channels.
        for (channels, stride, direct) in [
            (5, 2, true), (StridedConvolution.minChannels - 1, 2, true),
            (StridedConvolution.minChannels, 2, false), (StridedConvolution.maxChannels, 2, false), (16, 1, false),
            (3, 1, true),
        ] {
            let layer = try #require(
                try makeLayers(
                    input: FeatureShape(channels: channels, height: 9, width: 9),
                    "[convolutional]\nfilters=37\nsize=3\nstride=\(stride)\npad=1\nactivation=leaky\n")[0]
                    as? ConvolutionalLayer)
            #expect(
                layer.direct == direct && layer.strided == (!direct && stride == 2) && !layer.panel,
                "c\(channels) s\(stride)")
        }
        // An input larger than `maxStridedInputFloats` (yolov3's 32 @416) stays on panels.
        let large = try #require(
            try makeLayers(
                input: FeatureShape(channels: 32, height: 416, width: 416),
                "[convolutional]\nfilters=64\nsize=3\nstride=2\npad=1\nactivation=leaky\n")[0]
                as? ConvolutionalLayer)
        #expect(!large.direct && !large.strided && large.panel)
        let pointwise = FeatureShape(channels: 48, height: 5, width: 5)
        let small = try #require(
            try makeLayers(input: pointwise, "[convolutional]\nfilters=64\nsize=1\nactivation=leaky\n")[0]
                as? ConvolutionalLayer)
        #expect(!small.panel)  // a reduction of 48: SmallGemm
        // The same with swish: panels, which apply it while each part is in cache; fewer than 8
        // filters stay on SmallGemm.
        for (filters, panel) in [(64, true), (8, true), (7, false)] {
            let swish = try #require(
                try makeLayers(input: pointwise, "[convolutional]\nfilters=\(filters)\nsize=1\nactivation=swish\n")[0]
                    as? ConvolutionalLayer)
            #expect(swish.panel == panel, "\(filters)")
        }
    }

    @Test(arguments: cases)
    func matchesNaive(_ t: ConvCase) throws {
        for batchNormalize in [false, true] {
            let shape = FeatureShape(channels: t.c, height: t.h, width: t.w)
            let cfg = """
                [convolutional]
                filters=\(t.filters)
                size=\(t.size)
                stride=\(t.stride)
                padding=\(t.pad)
                groups=\(t.groups)
                batch_normalize=\(batchNormalize ? 1 : 0)
                activation=\(t.activation.rawValue)
                """
            let layer = try #require(try makeLayers(input: shape, cfg)[0] as? ConvolutionalLayer)
            var rng = DetTestRandom(seed: UInt64(t.c * 1000 + t.h * 10 + t.size))
            let n = t.filters
            let perFilter = t.c / t.groups * t.size * t.size
            let bias = rng.floats(n)
            let rawWeights = rng.floats(n * perFilter)
            var floats = bias
            var foldedBias = bias
            var foldedWeights = rawWeights
            if batchNormalize {
                let scales = rng.floats(n, in: 0.5...1.5)
                let means = rng.floats(n)
                let variances = rng.floats(n, in: 0.1...2)
                floats += scales + means + variances
                for f in 0..<n {
                    let root = (Double(variances[f]) + 1e-5).squareRoot()
                    foldedBias[f] = Float(Double(bias[f]) - Double(scales[f]) * Double(means[f]) / root)
                    for i in 0..<perFilter {
                        foldedWeights[f * perFilter + i] = Float(
                            Double(rawWeights[f * perFilter + i]) * Double(scales[f]) / root)
                    }
                }
            }
            floats += rawWeights
            #expect(floats.count == layer.weightCount)
            let loaded = try layer.loadingWeights(floats)
            let input = rng.floats(shape.count)
            let got = runLayer(loaded, index: 0, buffers: [input])
            let want = naiveConvolution(
                input: input, shape: shape, weights: foldedWeights, bias: foldedBias, filters: n,
                size: t.size, stride: t.stride, pad: t.pad, groups: t.groups, activation: t.activation)
            #expect(loaded.outputShape.count == want.count)
            #expect(maxRelativeError(got, want) < 1e-4, "bn=\(batchNormalize)")
        }
    }

    @Test func pointwiseIdentityReturnsItsInput() throws {
        let shape = FeatureShape(channels: 5, height: 7, width: 9)
        let layer = try makeLayers(input: shape, "[convolutional]\nfilters=5\nsize=1\nactivation=linear\n")[0]
        var floats = [Float](repeating: 0, count: 5)  // biases
        for f in 0..<5 { for c in 0..<5 { floats.append(f == c ? 1 : 0) } }
        let loaded = try layer.loadingWeights(floats)
        var rng = DetTestRandom(seed: 7)
        let input = rng.floats(shape.count)
        #expect(runLayer(loaded, index: 0, buffers: [input]) == input)
    }

    @Test func blockedIm2colMatchesWhole() throws {
        // Rows are unfolded in blocks; a block boundary must not change the result.
        var rng = DetTestRandom(seed: 3)
        let c = 3
        let h = 11
        let w = 7
        let k = 3
        let input = rng.floats(c * h * w)
        let whole = UnsafeMutablePointer<Float>.allocate(capacity: c * k * k * h * w)
        let part = UnsafeMutablePointer<Float>.allocate(capacity: c * k * k * 4 * w)
        defer {
            whole.deallocate()
            part.deallocate()
        }
        input.withUnsafeBufferPointer { p in
            Im2col.unfold(
                input: p.baseAddress!, channels: c, height: h, width: w, kernel: k, stride: 1, pad: 1,
                outWidth: w, rowStart: 0, rowCount: h, columns: whole)
            var mismatches = 0
            for start in stride(from: 0, to: h, by: 4) {
                let rows = min(4, h - start)
                Im2col.unfold(
                    input: p.baseAddress!, channels: c, height: h, width: w, kernel: k, stride: 1, pad: 1,
                    outWidth: w, rowStart: start, rowCount: rows, columns: part)
                for r in 0..<(c * k * k) {
                    for i in 0..<(rows * w) {
                        if part[r * rows * w + i] != whole[r * h * w + start * w + i] { mismatches += 1 }
                    }
                }
            }
            #expect(mismatches == 0)
        }
    }
}

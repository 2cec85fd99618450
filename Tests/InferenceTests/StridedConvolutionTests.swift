import Testing

@testable import Inference
@testable import InferenceKernels

/// `StridedConvolution` called directly on each ISA (AVX2's 8-pixel blocks, AVX-512's 48-pixel
/// blocks) and on one and two threads: every run agrees with the naive reference and with the
/// im2col + GEMM reference, and all runs agree bit for bit (the same sums in the same order).
@Suite("Strided 3×3 convolution on both ISAs")
struct StridedConvolutionTests {
    struct Shape: CustomTestStringConvertible, Sendable {
        var c, h, w, filters, pad: Int
        var activation: Activation
        var testDescription: String { "c\(c) \(h)x\(w) n\(filters) p\(pad) \(activation)" }
    }

    /// Outputs narrower than a vector (1, 3 and 7 wide: a 48-pixel block spans many rows), 16
    /// and 17 wide, odd and even inputs (the last input column unused or not), pad 0, 1 and 2,
    /// filter counts below, at and past a multiple of 8, 3 to 70 channels, every in-register
    /// activation.
    static let shapes: [Shape] = [
        Shape(c: 3, h: 33, w: 34, filters: 16, pad: 1, activation: .swish),
        Shape(c: 16, h: 12, w: 31, filters: 35, pad: 1, activation: .leaky),
        Shape(c: 70, h: 9, w: 14, filters: 8, pad: 1, activation: .relu),
        Shape(c: 5, h: 3, w: 3, filters: 3, pad: 1, activation: .linear),
        Shape(c: 9, h: 7, w: 8, filters: 17, pad: 0, activation: .swish),
        Shape(c: 4, h: 20, w: 5, filters: 9, pad: 2, activation: .leaky),
        Shape(c: 32, h: 8, w: 40, filters: 24, pad: 1, activation: .linear),
    ]

    static let isas = KernelISA.detected == .avx512 ? [KernelISA.avx2, .avx512] : [.avx2]

    @Test(arguments: shapes)
    func bothISAsMatchNaive(_ t: Shape) throws {
        let oh = (t.h + 2 * t.pad - 3) / 2 + 1
        let ow = (t.w + 2 * t.pad - 3) / 2 + 1
        var rng = DetTestRandom(seed: UInt64(t.c * 1000 + t.w * 10 + t.pad))
        let input = rng.floats(t.c * t.h * t.w)
        let weights = rng.floats(t.filters * t.c * 9, in: -0.3...0.3)
        let bias = rng.floats(t.filters)
        let shape = FeatureShape(channels: t.c, height: t.h, width: t.w)
        let want = naiveConvolution(
            input: input, shape: shape, weights: weights, bias: bias, filters: t.filters, size: 3, stride: 2,
            pad: t.pad, groups: 1, activation: t.activation)
        let gemm = im2colConvolution(
            input: input, shape: shape, weights: weights, bias: bias, filters: t.filters, size: 3, stride: 2,
            pad: t.pad, activation: t.activation)
        #expect(maxRelativeError(gemm, want) < 1e-4)
        let packed = weights.withUnsafeBufferPointer {
            StridedConvolution.packWeights($0.baseAddress!, filters: t.filters, channels: t.c)
        }
        #expect(packed.count == StridedConvolution.packedCount(filters: t.filters, channels: t.c))
        let unpacked = packed.withUnsafeBufferPointer {
            StridedConvolution.unpackWeights($0.baseAddress!, filters: t.filters, channels: t.c)
        }
        #expect(unpacked == weights)
        var runs: [[Float]] = []
        for isa in Self.isas {
            for threads in [1, 2] {
                let pool = ComputePool(threads: threads)
                var workspace = [Float](
                    repeating: .nan,
                    count: StridedConvolution.workspaceSize(channels: t.c, outHeight: oh, outWidth: ow))
                var out = [Float](repeating: .nan, count: t.filters * oh * ow)
                input.withUnsafeBufferPointer { x in
                    packed.withUnsafeBufferPointer { w in
                        bias.withUnsafeBufferPointer { b in
                            out.withUnsafeMutableBufferPointer { o in
                                workspace.withUnsafeMutableBufferPointer { ws in
                                    pool.run {
                                        StridedConvolution.run(
                                            input: x.baseAddress!, channels: t.c, height: t.h, width: t.w,
                                            packed: w.baseAddress!, bias: b.baseAddress!, filters: t.filters,
                                            pad: t.pad, activation: t.activation, output: o.baseAddress!,
                                            outHeight: oh, outWidth: ow, workspace: ws.baseAddress!, isa: isa)
                                    }
                                }
                            }
                        }
                    }
                }
                #expect(maxRelativeError(out, want) < 1e-4, "\(isa) \(threads) threads")
                #expect(maxRelativeError(out, gemm) < 1e-4, "\(isa) \(threads) threads")
                runs.append(out)
            }
        }
        #expect(runs.allSatisfy { $0 == runs[0] })
    }

    /// The layer picks the kernel for 3×3 stride-2 ungrouped layers with an in-register
    /// activation and 32 to 128 channels, and not for grouped ones, mish, fewer or more
    /// channels, or inputs past the cap.
    @Test func layerChoice() {
        #expect(
            StridedConvolution.applies(
                channels: 64, filters: 128, groups: 1, kernel: 3, stride: 2, inputFloats: 64 * 80 * 80,
                activation: .swish))
        #expect(
            !StridedConvolution.applies(
                channels: 64, filters: 64, groups: 64, kernel: 3, stride: 2, inputFloats: 64 * 80 * 80,
                activation: .swish))
        #expect(
            !StridedConvolution.applies(
                channels: 64, filters: 128, groups: 1, kernel: 3, stride: 2, inputFloats: 64 * 80 * 80,
                activation: .mish))
        #expect(
            !StridedConvolution.applies(
                channels: 256, filters: 512, groups: 1, kernel: 3, stride: 2, inputFloats: 256 * 52 * 52,
                activation: .leaky))
        #expect(
            !StridedConvolution.applies(
                channels: 16, filters: 32, groups: 1, kernel: 3, stride: 2, inputFloats: 16 * 320 * 320,
                activation: .swish))
        #expect(
            !StridedConvolution.applies(
                channels: 64, filters: 128, groups: 1, kernel: 3, stride: 1, inputFloats: 64 * 80 * 80,
                activation: .leaky))
        #expect(
            !StridedConvolution.applies(
                channels: 64, filters: 128, groups: 1, kernel: 3, stride: 2, inputFloats: 64 * 208 * 208,
                activation: .leaky))
    }
}

/// An independent route to the same result: `Im2col.unfold` into a `[c·k·k × oh·ow]` matrix,
/// then a plain product with the `[filters × c·k·k]` weights in Double, bias, activation.
func im2colConvolution(
    input: [Float], shape: FeatureShape, weights: [Float], bias: [Float], filters: Int, size: Int, stride: Int,
    pad: Int, activation: Activation
) -> [Float] {
    let oh = (shape.height + 2 * pad - size) / stride + 1
    let ow = (shape.width + 2 * pad - size) / stride + 1
    let k = shape.channels * size * size
    var columns = [Float](repeating: 0, count: k * oh * ow)
    input.withUnsafeBufferPointer { x in
        columns.withUnsafeMutableBufferPointer { c in
            Im2col.unfold(
                input: x.baseAddress!, channels: shape.channels, height: shape.height, width: shape.width,
                kernel: size, stride: stride, pad: pad, outWidth: ow, rowStart: 0, rowCount: oh,
                columns: c.baseAddress!)
        }
    }
    var out = [Float](repeating: 0, count: filters * oh * ow)
    for f in 0..<filters {
        for j in 0..<(oh * ow) {
            var sum = Double(bias[f])
            for i in 0..<k { sum += Double(weights[f * k + i]) * Double(columns[i * oh * ow + j]) }
            out[f * oh * ow + j] = Float(referenceActivation(activation, sum))
        }
    }
    return out
}

import Testing

@testable import Inference
@testable import InferenceKernels

/// `DirectConvolution` called directly with each register-block set (AVX2's 8-pixel loop alone,
/// and AVX-512's 32- and 16-pixel loops with AVX2 finishing the row) on one and two threads: every run
/// agrees with the naive reference, and all runs agree bit for bit (the same sums in the same
/// order).
@Suite("Direct 3×3 convolution on both ISAs")
struct DirectConvolutionTests {
    struct Shape: CustomTestStringConvertible, Sendable {
        var c, h, w, filters, stride, pad: Int
        var activation: Activation
        var testDescription: String { "c\(c) \(h)x\(w) n\(filters) s\(stride) p\(pad) \(activation)" }
    }

    /// Outputs 16, 17 and 38 wide (one AVX-512 vector, one and a tail, a 32-pixel step and a tail
    /// of 6), 50 and 64 (32-pixel steps, then a vector of 16 and a tail of 2; two steps), 7 (AVX2
    /// only); filter counts not a multiple of 8; padding and none; stride 1 (≤ 4 channels)
    /// and 2 with up to 128 channels (more than `applies` sends it); activations in registers and over finished rows.
    /// At stride 2 with ≤ 16 channels AVX-512 reads the input in place (`DirectRowInPlace512`):
    /// widths 16 (one staged step) and 38 (staged first and last: padding, odd width), 50 (staged, a
    /// last 16 in place), 80 and 65 (staged 32, 32 in place, an overlapping last 16), 40 without
    /// padding (all in place); odd heights put the bottom row's taps past the image.
    static let shapes: [Shape] = [
        Shape(c: 16, h: 31, w: 32, filters: 35, stride: 2, pad: 1, activation: .swish),
        Shape(c: 33, h: 9, w: 35, filters: 19, stride: 2, pad: 0, activation: .leaky),
        Shape(c: 3, h: 12, w: 75, filters: 16, stride: 2, pad: 1, activation: .relu),
        Shape(c: 5, h: 5, w: 13, filters: 9, stride: 2, pad: 1, activation: .linear),
        Shape(c: 3, h: 6, w: 18, filters: 13, stride: 1, pad: 1, activation: .leaky),
        Shape(c: 2, h: 7, w: 19, filters: 8, stride: 1, pad: 0, activation: .swish),
        Shape(c: 128, h: 6, w: 33, filters: 10, stride: 2, pad: 1, activation: .mish),
        Shape(c: 3, h: 5, w: 100, filters: 12, stride: 2, pad: 1, activation: .swish),
        Shape(c: 4, h: 4, w: 64, filters: 9, stride: 1, pad: 1, activation: .leaky),
        Shape(c: 3, h: 5, w: 160, filters: 11, stride: 2, pad: 1, activation: .leaky),
        Shape(c: 7, h: 7, w: 81, filters: 11, stride: 2, pad: 0, activation: .relu),
        Shape(c: 16, h: 9, w: 130, filters: 24, stride: 2, pad: 1, activation: .swish),
    ]

    static let isas = KernelISA.detected == .avx512 ? [KernelISA.avx2, .avx512] : [.avx2]

    @Test(arguments: shapes)
    func bothISAsMatchNaive(_ t: Shape) throws {
        let oh = (t.h + 2 * t.pad - 3) / t.stride + 1
        let ow = (t.w + 2 * t.pad - 3) / t.stride + 1
        var rng = DetTestRandom(seed: UInt64(t.c * 1000 + t.w * 10 + t.stride))
        let input = rng.floats(t.c * t.h * t.w)
        let weights = rng.floats(t.filters * t.c * 9, in: -0.3...0.3)
        let bias = rng.floats(t.filters)
        let want = naiveConvolution(
            input: input, shape: FeatureShape(channels: t.c, height: t.h, width: t.w), weights: weights, bias: bias,
            filters: t.filters, size: 3, stride: t.stride, pad: t.pad, groups: 1, activation: t.activation)
        var runs: [[Float]] = []
        for isa in Self.isas {
            for threads in [1, 2] {
                let pool = ComputePool(threads: threads)
                var workspace = [Float](
                    repeating: .nan,
                    count: DirectConvolution.workspaceSize(
                        channels: t.c, filters: t.filters, stride: t.stride, outHeight: oh, outWidth: ow))
                var out = [Float](repeating: .nan, count: t.filters * oh * ow)
                input.withUnsafeBufferPointer { x in
                    weights.withUnsafeBufferPointer { w in
                        bias.withUnsafeBufferPointer { b in
                            out.withUnsafeMutableBufferPointer { o in
                                workspace.withUnsafeMutableBufferPointer { ws in
                                    pool.run {
                                        DirectConvolution.run(
                                            input: x.baseAddress!, channels: t.c, height: t.h, width: t.w,
                                            weights: w.baseAddress!, bias: b.baseAddress!, filters: t.filters,
                                            stride: t.stride, pad: t.pad, activation: t.activation,
                                            output: o.baseAddress!, outHeight: oh, outWidth: ow,
                                            workspace: ws.baseAddress!, isa: isa)
                                    }
                                }
                            }
                        }
                    }
                }
                #expect(maxRelativeError(out, want) < 1e-4, "\(isa) \(threads) threads")
                runs.append(out)
            }
        }
        #expect(runs.allSatisfy { $0 == runs[0] })
    }
}

import Testing

@testable import Inference
@testable import InferenceKernels

/// `PanelGemm.multiplyInPlace` (B read where it lies, AVX-512) and the 1×1 `PanelConvolution`
/// path that uses it: against a naive product in Double and OpenBLAS (`Gemm`), and the
/// convolution against the naive reference and im2col + a Double product, on both ISAs (AVX2
/// keeps unfolding into panels) and one and two threads, every run equal bit for bit.
@Suite("PanelGemm with B in place, 1×1 convolutions")
struct PanelInPlaceTests {
    /// Row counts on, below and past multiples of 4 and 8 (1, 6, 13 use the edge buffer), odd
    /// and even reductions (the unpaired last step), one 24-column strip, 48-column blocks alone
    /// (48, 96) and with a last 24 (72, 240), B rows longer than the product (`ldb` > n).
    static let products: [(m: Int, n: Int, k: Int, ldb: Int)] = [
        (8, 24, 64, 24), (16, 48, 65, 53), (13, 72, 70, 80), (6, 24, 128, 31), (1, 24, 3, 24), (40, 96, 192, 100),
        (64, 240, 33, 257), (12, 24, 2, 24),
    ]

    @Test(arguments: products)
    func productMatchesNaiveAndBLAS(_ p: (m: Int, n: Int, k: Int, ldb: Int)) throws {
        try #require(PanelGemm.multipliesInPlace(isa: .avx512) == (KernelISA.detected == .avx512))
        guard PanelGemm.multipliesInPlace(isa: .avx512) else { return }  // AVX-512 register blocks only
        var rng = DetTestRandom(seed: UInt64(p.m * 1000 + p.k * 10 + p.n))
        let a = rng.floats(p.m * p.k)
        // B's columns past n are NaN: they may not reach C.
        var b = rng.floats(p.k * p.ldb)
        for q in 0..<p.k { for j in p.n..<p.ldb { b[q * p.ldb + j] = .nan } }
        let packed = a.withUnsafeBufferPointer { PanelGemm.packA($0.baseAddress!, m: p.m, k: p.k) }
        let ldc = p.n + 3
        var c = [Float](repeating: .nan, count: (p.m + 1) * ldc)
        packed.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    PanelGemm.multiplyInPlace(
                        m: p.m, n: p.n, k: p.k, a: ap.baseAddress!, b: bp.baseAddress!, ldb: p.ldb,
                        c: cp.baseAddress!, ldc: ldc)
                }
            }
        }
        var blas = [Float](repeating: 0, count: p.m * p.n)
        let dense = (0..<(p.k * p.n)).map { b[($0 / p.n) * p.ldb + $0 % p.n] }
        a.withUnsafeBufferPointer { ap in
            dense.withUnsafeBufferPointer { bp in
                blas.withUnsafeMutableBufferPointer { cp in
                    Gemm.multiply(
                        m: p.m, n: p.n, k: p.k, a: ap.baseAddress!, lda: p.k, b: bp.baseAddress!, ldb: p.n,
                        c: cp.baseAddress!, ldc: p.n)
                }
            }
        }
        var worstNaive: Float = 0
        var worstBLAS: Float = 0
        for i in 0..<p.m {
            for j in 0..<p.n {
                var want = 0.0
                for q in 0..<p.k { want += Double(a[i * p.k + q]) * Double(b[q * p.ldb + j]) }
                let got = c[i * ldc + j]
                worstNaive = got.isNaN ? .infinity : max(worstNaive, abs(got - Float(want)))
                worstBLAS = max(worstBLAS, abs(got - blas[i * p.n + j]))
            }
            #expect(c[(i * ldc + p.n)..<(i * ldc + ldc)].allSatisfy { $0.isNaN }, "row \(i) written past n")
        }
        #expect(c[(p.m * ldc)...].allSatisfy { $0.isNaN }, "written past row m")
        let tolerance = 1e-4 * Float(p.k).squareRoot()
        #expect(worstNaive < tolerance)
        #expect(worstBLAS < tolerance)
    }

    struct Shape: CustomTestStringConvertible, Sendable {
        var c, h, w, filters: Int
        var activation: Activation
        var residual = false
        var testDescription: String { "c\(c) \(h)x\(w) n\(filters) \(activation)\(residual ? " +residual" : "")" }
    }

    /// From `inPlaceMinK` channels (the path) and one below (unfolded), pixel counts below one
    /// strip (9), a strip and a partial one (35), many parts with partial last strips (40×40,
    /// 23×29), filters not a multiple of 4 or 8, a residual folded in; 384 @20×20 (17 strips,
    /// the last partial: eight parts of one or two 48-column blocks on two threads).
    static let shapes: [Shape] = [
        Shape(c: 32, h: 5, w: 7, filters: 16, activation: .swish),
        Shape(c: 96, h: 3, w: 3, filters: 8, activation: .leaky),
        Shape(c: 70, h: 13, w: 11, filters: 13, activation: .linear),
        Shape(c: 128, h: 40, w: 40, filters: 64, activation: .swish, residual: true),
        Shape(c: 65, h: 23, w: 29, filters: 6, activation: .relu),
        Shape(c: 31, h: 12, w: 12, filters: 20, activation: .swish),
        Shape(c: 48, h: 16, w: 15, filters: 32, activation: .swish),
        Shape(c: 192, h: 20, w: 20, filters: 36, activation: .swish),
        Shape(c: 384, h: 20, w: 20, filters: 40, activation: .swish, residual: true),
    ]

    static let isas = KernelISA.detected == .avx512 ? [KernelISA.avx2, .avx512] : [.avx2]

    @Test(arguments: shapes)
    func pointwiseConvolutionMatchesReferences(_ t: Shape) {
        let pixels = t.h * t.w
        var rng = DetTestRandom(seed: UInt64(t.c * 100 + t.filters + pixels * 7))
        let input = rng.floats(t.c * pixels)
        let weights = rng.floats(t.filters * t.c, in: -0.2...0.2)
        let bias = rng.floats(t.filters)
        let residual = t.residual ? rng.floats(t.filters * pixels) : nil
        let shape = FeatureShape(channels: t.c, height: t.h, width: t.w)
        var want = naiveConvolution(
            input: input, shape: shape, weights: weights, bias: bias, filters: t.filters, size: 1, stride: 1, pad: 0,
            groups: 1, activation: t.activation)
        var other = im2colConvolution(
            input: input, shape: shape, weights: weights, bias: bias, filters: t.filters, size: 1, stride: 1, pad: 0,
            activation: t.activation)
        if let residual {
            for i in want.indices {
                want[i] += residual[i]
                other[i] += residual[i]
            }
        }
        let packed = weights.withUnsafeBufferPointer { PanelGemm.packA($0.baseAddress!, m: t.filters, k: t.c) }
        var runs: [[Float]] = []
        for isa in Self.isas {
            for threads in [1, 2] {
                let pool = ComputePool(threads: threads)
                var workspace = [Float](
                    repeating: .nan,
                    count: PanelConvolution.workspaceSize(channels: t.c, kernel: 1, outHeight: t.h, outWidth: t.w))
                var out = [Float](repeating: .nan, count: t.filters * pixels)
                let r = residual ?? [0]
                input.withUnsafeBufferPointer { x in
                    packed.withUnsafeBufferPointer { w in
                        bias.withUnsafeBufferPointer { b in
                            r.withUnsafeBufferPointer { rp in
                                out.withUnsafeMutableBufferPointer { o in
                                    workspace.withUnsafeMutableBufferPointer { ws in
                                        pool.run {
                                            PanelConvolution.run(
                                                input: x.baseAddress!, channels: t.c, height: t.h, width: t.w,
                                                packed: w.baseAddress!, bias: b.baseAddress!, filters: t.filters,
                                                kernel: 1, stride: 1, pad: 0, activation: t.activation,
                                                output: o.baseAddress!, outHeight: t.h, outWidth: t.w,
                                                residual: t.residual ? rp.baseAddress! : nil,
                                                workspace: ws.baseAddress!, isa: isa)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                #expect(maxRelativeError(out, want) < 1e-4, "\(isa) \(threads) threads")
                #expect(maxRelativeError(out, other) < 1e-4, "\(isa) \(threads) threads")
                runs.append(out)
            }
        }
        // Each ISA's runs agree bit for bit across thread counts.
        #expect(runs[0] == runs[1])
        if runs.count == 4 { #expect(runs[2] == runs[3]) }
    }
}

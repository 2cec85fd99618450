import Testing

@testable import Inference
@testable import InferenceKernels

@Suite("SmallGemm against a naive product")
struct SmallGemmTests {
    /// Column counts around the 32-wide AVX-512 block, the 16- and 8-wide AVX2 ones and the
    /// 512-column panel; row counts with and without a remainder of 4; short and long reductions.
    static let shapes: [(m: Int, n: Int, k: Int)] = [
        (4, 32, 3), (4, 33, 16), (5, 64, 9), (8, 95, 48), (16, 600, 27), (3, 40, 5), (32, 1030, 144),
        (7, 31, 2), (12, 17, 64), (1, 70, 1),
    ]

    @Test(arguments: shapes)
    func matchesNaive(_ shape: (m: Int, n: Int, k: Int)) {
        let isas = KernelISA.detected == .avx512 ? [KernelISA.avx2, .avx512] : [.avx2]
        for isa in isas {
            for activation in [Activation.linear, .leaky, .relu] { check(shape, activation, isa) }
        }
    }

    func check(_ shape: (m: Int, n: Int, k: Int), _ activation: Activation, _ isa: KernelISA) {
        let (m, n, k) = shape
        var rng = DetTestRandom(seed: UInt64(m * 7919 + n * 31 + k))
        let a = rng.floats(m * k)
        let ldb = n + 3
        let b = rng.floats(k * ldb)
        let bias = rng.floats(m)
        let ldc = n + 5
        var c = [Float](repeating: .nan, count: m * ldc)
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                bias.withUnsafeBufferPointer { bias in
                    c.withUnsafeMutableBufferPointer { c in
                        SmallGemm.multiply(
                            m: m, n: n, k: k, a: a.baseAddress!, b: b.baseAddress!, ldb: ldb, c: c.baseAddress!,
                            ldc: ldc, bias: bias.baseAddress!, activation: activation, isa: isa)
                    }
                }
            }
        }
        var worst: Float = 0
        for i in 0..<m {
            for j in 0..<n {
                var want = bias[i]
                for q in 0..<k { want += a[i * k + q] * b[q * ldb + j] }
                if want <= 0, activation == .leaky { want *= 0.1 }
                if want <= 0, activation == .relu { want = 0 }
                let d = abs(c[i * ldc + j] - want)
                worst = d.isNaN ? .infinity : max(worst, d)
            }
            #expect(c[(i * ldc + n)..<(i * ldc + ldc)].allSatisfy { $0.isNaN }, "nothing past column n")
        }
        #expect(worst < 1e-4 * Float(k).squareRoot(), "\(isa) \(activation) \(shape)")
    }
}

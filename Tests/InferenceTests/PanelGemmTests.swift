import Foundation
import Testing

@testable import Inference
@testable import InferenceKernels

@Suite("PanelGemm against a naive product")
struct PanelGemmTests {
    /// Every remainder of the 24-column panels (1–4 columns: the column kernel; 5–8: 8×8 and
    /// 4×8; 9–16; 17–24), row counts that are and are not multiples of 4, 8 and 32 (the column
    /// kernel's eight panels), short and long reductions. With AVX-512, pairs of whole panels run
    /// 48 columns at a time: n = 48, 49, 57, 96, 169 and 72 (a pair, then one panel), with row
    /// edges (10, 13, 6 rows) through the 48-column buffer.
    static let shapes: [(m: Int, n: Int, k: Int)] = [
        (4, 1, 1), (4, 7, 3), (8, 8, 5), (12, 13, 17), (16, 24, 32), (20, 25, 9), (32, 49, 64),
        (36, 50, 11), (64, 169, 128), (24, 44, 7), (40, 3, 70), (68, 4, 33), (8, 40, 2), (64, 48, 512),
        (1, 5, 3), (3, 30, 8), (7, 2, 9), (13, 16, 4), (37, 47, 20), (255, 26, 19), (33, 8, 6), (10, 57, 300),
        (13, 96, 21), (6, 72, 5),
    ]

    /// Both register-block sets where the CPU has AVX-512, else AVX2's.
    static let isas = KernelISA.detected == .avx512 ? [KernelISA.avx2, .avx512] : [.avx2]

    @Test(arguments: shapes)
    func matchesNaive(_ shape: (m: Int, n: Int, k: Int)) {
        for isa in Self.isas { check(shape, isa: isa) }
    }

    func check(_ shape: (m: Int, n: Int, k: Int), isa: KernelISA) {
        let (m, n, k) = shape
        var rng = DetTestRandom(seed: UInt64(m * 10_007 + n * 101 + k))
        let a = rng.floats(m * k)
        let b = rng.floats(k * n)
        // A in 4-row panels [k][4]; B in 24-column panels [k][24], the last one's unused lanes NaN
        // (they may only reach C's columns past n).
        let bPanels = (n + 23) / 24
        // A's rows past m (the last panel's padding) are NaN: they may not reach C.
        var ap = [Float](repeating: .nan, count: (m + 3) / 4 * 4 * k)
        for i in 0..<m { for q in 0..<k { ap[(i / 4) * 4 * k + q * 4 + i % 4] = a[i * k + q] } }
        let packed = a.withUnsafeBufferPointer { PanelGemm.packA($0.baseAddress!, m: m, k: k) }
        #expect(packed.count == ap.count)
        #expect(zip(packed, ap).allSatisfy { $1.isNaN ? $0 == 0 : $0 == $1 })
        #expect(packed.withUnsafeBufferPointer { PanelGemm.unpackA($0.baseAddress!, m: m, k: k) } == a)
        var bp = [Float](repeating: .nan, count: bPanels * 24 * k)
        for q in 0..<k { for j in 0..<n { bp[(j / 24) * 24 * k + q * 24 + j % 24] = b[q * n + j] } }
        let ldc = n + 5
        var c = [Float](repeating: .nan, count: (m + 1) * ldc)
        ap.withUnsafeBufferPointer { ap in
            bp.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    PanelGemm.multiply(
                        m: m, n: n, k: k, a: ap.baseAddress!, b: bp.baseAddress!, c: cp.baseAddress!, ldc: ldc,
                        isa: isa)
                }
            }
        }
        var worst: Float = 0
        for i in 0..<m {
            for j in 0..<n {
                var want: Float = 0
                for q in 0..<k { want += a[i * k + q] * b[q * n + j] }
                let d = abs(c[i * ldc + j] - want)
                worst = d.isNaN ? .infinity : max(worst, d)
            }
            // Nothing is written past column n.
            #expect(c[(i * ldc + n)..<(i * ldc + ldc)].allSatisfy { $0.isNaN })
        }
        // Nor past row m.
        #expect(c[(m * ldc)...].allSatisfy { $0.isNaN })
        #expect(worst < 1e-4 * Float(k).squareRoot(), "\(isa)")
    }
}

@Suite("Kernel instruction set")
struct KernelISATests {
    @Test("AVX-512 is detected exactly when /proc/cpuinfo lists the subset the kernels use")
    func detectionAgreesWithCPUInfo() throws {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else { return }
        let flags = Set(line.split(separator: " ").map(String.init))
        let subset = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]
        #expect((KernelISA.detected == .avx512) == subset.allSatisfy(flags.contains))
    }

    @Test("MSCR_KERNEL_ISA: auto, avx2 and (where supported) avx512; anything else names the variable")
    func environmentSetting() throws {
        #expect(try KernelISA.fromEnvironment(nil) == KernelISA.detected)
        #expect(try KernelISA.fromEnvironment("auto") == KernelISA.detected)
        #expect(try KernelISA.fromEnvironment("avx2") == .avx2)
        if KernelISA.detected == .avx512 {
            #expect(try KernelISA.fromEnvironment("avx512") == .avx512)
        } else {
            let error = try #require(throws: InferenceError.self) { try KernelISA.fromEnvironment("avx512") }
            #expect(error.message.contains("no AVX-512"))
        }
        let error = try #require(throws: InferenceError.self) { try KernelISA.fromEnvironment("sse") }
        #expect(error.message.contains("MSCR_KERNEL_ISA=sse"))
    }
}

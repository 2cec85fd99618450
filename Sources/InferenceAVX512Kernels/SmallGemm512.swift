/// AVX-512 register block for `SmallGemm` (call only when `mscr_cpu_has_avx512()` says so): four
/// rows of `C = act(A · B + bias)` 32 columns at a time, eight 16-lane accumulators.
package enum SmallGemm512 {
    /// The activations applied in registers.
    package enum Fused: Sendable {
        case linear, leaky, relu
    }

    @inline(__always)
    static func activate(_ v: SIMD16<Float>, _ act: Fused) -> SIMD16<Float> {
        switch act {
        case .leaky: return v.replacing(with: v * SIMD16(repeating: 0.1), where: v .<= 0)
        case .relu: return v.replacing(with: SIMD16(repeating: 0), where: v .<= 0)
        case .linear: return v
        }
    }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }

    @inline(__always)
    static func store(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
    }

    /// Columns `0 ..< 32·⌊n/32⌋` of four rows of C (`a` row-major with `lda = k`; row `r` of C at
    /// `c + r·ldc`); returns how many columns it wrote, for the caller to finish the rest.
    package static func block4(
        _ n: Int, _ k: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ ldb: Int,
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ bias: UnsafePointer<Float>?, _ act: Fused
    ) -> Int {
        let a0 = a
        let a1 = a + k
        let a2 = a + 2 * k
        let a3 = a + 3 * k
        let b0 = SIMD16<Float>(repeating: bias?[0] ?? 0)
        let b1 = SIMD16<Float>(repeating: bias?[1] ?? 0)
        let b2 = SIMD16<Float>(repeating: bias?[2] ?? 0)
        let b3 = SIMD16<Float>(repeating: bias?[3] ?? 0)
        var j = 0
        while j + 32 <= n {
            var c00 = b0
            var c01 = b0
            var c10 = b1
            var c11 = b1
            var c20 = b2
            var c21 = b2
            var c30 = b3
            var c31 = b3
            var p = b + j
            for kk in 0..<k {
                let x0 = load(p)
                let x1 = load(p + 16)
                let w0 = SIMD16<Float>(repeating: a0[kk])
                let w1 = SIMD16<Float>(repeating: a1[kk])
                let w2 = SIMD16<Float>(repeating: a2[kk])
                let w3 = SIMD16<Float>(repeating: a3[kk])
                c00 = c00.addingProduct(x0, w0)
                c01 = c01.addingProduct(x1, w0)
                c10 = c10.addingProduct(x0, w1)
                c11 = c11.addingProduct(x1, w1)
                c20 = c20.addingProduct(x0, w2)
                c21 = c21.addingProduct(x1, w2)
                c30 = c30.addingProduct(x0, w3)
                c31 = c31.addingProduct(x1, w3)
                p += ldb
            }
            let o = c + j
            store(activate(c00, act), o)
            store(activate(c01, act), o + 16)
            store(activate(c10, act), o + ldc)
            store(activate(c11, act), o + ldc + 16)
            store(activate(c20, act), o + 2 * ldc)
            store(activate(c21, act), o + 2 * ldc + 16)
            store(activate(c30, act), o + 3 * ldc)
            store(activate(c31, act), o + 3 * ldc + 16)
            j += 32
        }
        return j
    }
}

/// AVX-512 `x · logistic(x)` over a row (call only when `mscr_cpu_has_avx512()` says so): the
/// same Cephes `expf` as `Activation.exp` in `InferenceKernels`, sixteen lanes at a time, so both
/// sets give the same value for the same input.
package enum Swish512 {
    /// `e^v`, clamped to |v| ≲ 88 as `Activation.exp`, with the same fused multiply-adds.
    @inline(__always)
    static func exp(_ v: SIMD16<Float>) -> SIMD16<Float> {
        let lo = SIMD16<Float>(repeating: -87.3)
        let hi = SIMD16<Float>(repeating: 88.3)
        var x = v.replacing(with: lo, where: v .< lo)
        x.replace(with: hi, where: x .> hi)
        let magic = SIMD16<Float>(repeating: 12_582_912)
        let t = magic.addingProduct(x, SIMD16(repeating: 1.442_695_04))
        let n = t - magic
        let r = x.addingProduct(n, SIMD16(repeating: -0.693_359_375)).addingProduct(
            n, SIMD16(repeating: 2.121_944_4e-4))
        var p = SIMD16<Float>(repeating: 1.987_569_15e-4)
        p = SIMD16(repeating: 1.398_199_95e-3).addingProduct(p, r)
        p = SIMD16(repeating: 8.333_451_9e-3).addingProduct(p, r)
        p = SIMD16(repeating: 4.166_579_59e-2).addingProduct(p, r)
        p = SIMD16(repeating: 0.166_666_655).addingProduct(p, r)
        p = SIMD16(repeating: 0.500_000_012).addingProduct(p, r)
        let y = (r + 1).addingProduct(p, r * r)
        let bits = (unsafeBitCast(t, to: SIMD16<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        return y * unsafeBitCast(bits, to: SIMD16<Float>.self)
    }

    /// `v / (1 + e^−v)`.
    @inline(__always)
    static func swish(_ v: SIMD16<Float>) -> SIMD16<Float> {
        v / (1 + exp(-v))
    }

    /// `p[i] = swish(p[i] + bias)` for `i < count` in whole vectors of sixteen; returns how many
    /// it did (a multiple of 16), for the caller to finish the rest.
    package static func apply(_ p: UnsafeMutablePointer<Float>, _ count: Int, _ bias: Float) -> Int {
        let vb = SIMD16<Float>(repeating: bias)
        var i = 0
        while i + 16 <= count {
            let raw = UnsafeMutableRawPointer(p + i)
            raw.storeBytes(of: swish(raw.loadUnaligned(as: SIMD16<Float>.self) + vb), as: SIMD16<Float>.self)
            i += 16
        }
        return i
    }
}

/// AVX-512 `x · logistic(x)` over a row (call only when `mscr_cpu_has_avx512()` says so): the
/// same Cephes `expf` as `Activation.exp` in `InferenceKernels`, sixteen lanes at a time, so both
/// sets give the same value for the same input.
package enum Swish512 {
    /// `e^v`, clamped to |v| ≲ 88 as `Activation.exp`.
    @inline(__always)
    static func exp(_ v: SIMD16<Float>) -> SIMD16<Float> {
        let lo = SIMD16<Float>(repeating: -87.3)
        let hi = SIMD16<Float>(repeating: 88.3)
        var x = v.replacing(with: lo, where: v .< lo)
        x.replace(with: hi, where: x .> hi)
        let magic = SIMD16<Float>(repeating: 12_582_912)
        let t = x * 1.442_695_04 + magic
        let n = t - magic
        let r = x - n * 0.693_359_375 - n * -2.121_944_4e-4
        var p = SIMD16<Float>(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 0.166_666_655
        p = p * r + 0.500_000_012
        let y = p * (r * r) + r + 1
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

/// The filter transform `U = G g Gᵀ` of `WinogradConvolution`, run per call on one block of
/// filters at a time (nothing transformed is stored with the model).
extension WinogradConvolution {
    /// `U_p[f − filters.lowerBound, c]` (plane `p` at `dst + p·planeStride`, `channels` floats a
    /// filter) is entry `p = i·(m+2) + j` of `G g Gᵀ` for the 3×3 kernel `g` of (f, c) in
    /// `weights [filters × channels × 3 × 3]`. Eight channels at a time.
    package static func transformFilters(
        _ weights: UnsafePointer<Float>, tile: Tile, channels: Int, filters: Range<Int>,
        dst: UnsafeMutablePointer<Float>, planeStride: Int
    ) {
        let whole = channels / 8 * 8, rest = channels - whole
        for f in filters {
            let row = dst + (f - filters.lowerBound) * channels
            let w = weights + f * channels * 9
            var c0 = 0
            while c0 < whole {
                switch tile {
                case .f2: filterF2(w + c0 * 9, row + c0, planeStride)
                case .f4: filterF4(w + c0 * 9, row + c0, planeStride)
                }
                c0 += 8
            }
            if rest > 0 {
                // The last, partial group of channels, through zero-padded scratch:
                // kernels [8 × 9], then planes [planes × 8].
                withUnsafeTemporaryAllocation(of: Float.self, capacity: 72 + 8 * 36) { scratch in
                    let kernels = scratch.baseAddress!, planes = kernels + 72
                    kernels.initialize(repeating: 0, count: 72)
                    kernels.update(from: w + whole * 9, count: rest * 9)
                    switch tile {
                    case .f2: filterF2(kernels, planes, 8)
                    case .f4: filterF4(kernels, planes, 8)
                    }
                    for p in 0..<tile.planes {
                        (row + whole + p * planeStride).update(from: planes + p * 8, count: rest)
                    }
                }
            }
        }
    }

    /// Tap `k` of eight consecutive 3×3 kernels at `w` (lane l: `w[9l + k]`). Not inlined: LLVM
    /// would otherwise see through the lane-by-lane gather and scalarise the whole transform
    /// (measured 2–3× slower).
    @inline(never)
    private static func tap(_ w: UnsafePointer<Float>, _ k: Int) -> SIMD8<Float> {
        SIMD8(w[k], w[9 + k], w[18 + k], w[27 + k], w[36 + k], w[45 + k], w[54 + k], w[63 + k])
    }

    /// `G g Gᵀ` of F(2×2, 3×3) for the eight kernels `[8 × 3 × 3]` at `w`; plane `i·4 + j` at
    /// `dst + (i·4 + j)·ps`.
    @inline(__always)
    private static func filterF2(_ w: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ ps: Int) {
        // G g, one column of g at a time: column b is taps (b, 3 + b, 6 + b).
        let (a0, a1, a2, a3) = filter4(tap(w, 0), tap(w, 3), tap(w, 6))
        let (b0, b1, b2, b3) = filter4(tap(w, 1), tap(w, 4), tap(w, 7))
        let (c0, c1, c2, c3) = filter4(tap(w, 2), tap(w, 5), tap(w, 8))
        // (G g) Gᵀ: row i of G g becomes planes i·4 ..< i·4 + 4.
        @inline(__always) func row(_ i: Int, _ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: SIMD8<Float>) {
            let (e0, e1, e2, e3) = filter4(a, b, c)
            let out = dst + i * 4 * ps
            put(e0, out); put(e1, out + ps); put(e2, out + 2 * ps); put(e3, out + 3 * ps)
        }
        row(0, a0, b0, c0)
        row(1, a1, b1, c1)
        row(2, a2, b2, c2)
        row(3, a3, b3, c3)
    }

    /// `G g Gᵀ` of F(4×4, 3×3) for the eight kernels at `w`; plane `i·6 + j` at `dst + (i·6 + j)·ps`.
    @inline(__always)
    private static func filterF4(_ w: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ ps: Int) {
        let (a0, a1, a2, a3, a4, a5) = filter6(tap(w, 0), tap(w, 3), tap(w, 6))
        let (b0, b1, b2, b3, b4, b5) = filter6(tap(w, 1), tap(w, 4), tap(w, 7))
        let (c0, c1, c2, c3, c4, c5) = filter6(tap(w, 2), tap(w, 5), tap(w, 8))
        @inline(__always) func row(_ i: Int, _ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: SIMD8<Float>) {
            let (e0, e1, e2, e3, e4, e5) = filter6(a, b, c)
            let out = dst + i * 6 * ps
            put(e0, out); put(e1, out + ps); put(e2, out + 2 * ps)
            put(e3, out + 3 * ps); put(e4, out + 4 * ps); put(e5, out + 5 * ps)
        }
        row(0, a0, b0, c0)
        row(1, a1, b1, c1)
        row(2, a2, b2, c2)
        row(3, a3, b3, c3)
        row(4, a4, b4, c4)
        row(5, a5, b5, c5)
    }

    /// `G (a, b, c)ᵀ` of F(2, 3): `G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]`.
    @inline(__always)
    private static func filter4(
        _ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: SIMD8<Float>
    ) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        let half = SIMD8<Float>(repeating: 0.5)
        let s = half * (a + c), d = half * b
        return (a, s + d, s - d, c)
    }

    /// `G (a, b, c)ᵀ` of F(4, 3):
    /// `G = [¼ 0 0; −⅙ −⅙ −⅙; −⅙ ⅙ −⅙; 1/24 1/12 ⅙; 1/24 −1/12 ⅙; 0 0 1]`.
    @inline(__always)
    private static func filter6(
        _ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: SIMD8<Float>
    ) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        let sixth = SIMD8<Float>(repeating: 1.0 / 6)
        let s = -sixth * (a + c), d = sixth * b
        let t = SIMD8<Float>(repeating: 1.0 / 24) * a + sixth * c, e = SIMD8<Float>(repeating: 1.0 / 12) * b
        return (SIMD8<Float>(repeating: 0.25) * a, s - d, s + d, t + e, t - e, c)
    }

    /// Stores `v` at `p` (unaligned) as one vector store. Element-wise stores (`vstore`) of
    /// values gathered lane by lane let LLVM scalarise the filter transform.
    @inline(__always)
    private static func put(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
    }
}

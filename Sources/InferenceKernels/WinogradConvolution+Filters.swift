/// The filter transform `U = G g Gᵀ` of `WinogradConvolution`, run per call on one block of
/// filters at a time (nothing transformed is stored with the model).
/// The filter transform `U = G g Gᵀ` of `WinogradConvolution`, run per call on one block of
/// filters at a time (nothing transformed is stored with the model), eight filters at a time
/// from the weights in `packWeights` order, into `PanelGemm`'s A panels.
extension WinogradConvolution {
    /// The weights `[filters × channels × 3 × 3]` regrouped for the filter transform: groups of
    /// eight filters, `[⌈filters/8⌉ × channels × 9 × 8]` (lane = filter within the group; filters
    /// past the last are zero). The same floats, so a Winograd layer keeps only this copy.
    package static func packWeights(_ weights: UnsafePointer<Float>, filters: Int, channels: Int) -> [Float] {
        let groups = (filters + 7) / 8
        return [Float](unsafeUninitializedCapacity: groups * channels * 72) { out, initialized in
            var d = out.baseAddress!
            for g in 0..<groups {
                let lanes = min(8, filters - 8 * g)
                for c in 0..<channels {
                    // Written in order: tap-major, eight filters a tap.
                    let src = weights + (8 * g * channels + c) * 9
                    for tap in 0..<9 {
                        for lane in 0..<8 { d[lane] = lane < lanes ? src[lane * channels * 9 + tap] : 0 }
                        d += 8
                    }
                }
            }
            initialized = groups * channels * 72
        }
    }

    /// The inverse of `packWeights` (tests and tools read a Winograd layer's weights back).
    package static func unpackWeights(_ packed: UnsafePointer<Float>, filters: Int, channels: Int) -> [Float] {
        var weights = [Float](repeating: 0, count: filters * channels * 9)
        for f in 0..<filters {
            for c in 0..<channels {
                for tap in 0..<9 {
                    weights[(f * channels + c) * 9 + tap] = packed[((f / 8 * channels + c) * 9 + tap) * 8 + f % 8]
                }
            }
        }
        return weights
    }

    /// Transforms the filter groups `groups` (of eight filters) of `packed` (`packWeights`
    /// order) into A panels of `PanelGemm`: group `groups.lowerBound + i` becomes panels `2i` and
    /// `2i + 1` (four filters each, `[channels × 4]`) of every plane `p` at `dst + p·planeStride`.
    package static func transformFilters(
        _ packed: UnsafePointer<Float>, tile: Tile, channels: Int, groups: Range<Int>,
        dst: UnsafeMutablePointer<Float>, planeStride: Int
    ) {
        let panel = 4 * channels
        for g in groups {
            let local = g - groups.lowerBound
            for c in 0..<channels {
                let w = packed + (g * channels + c) * 72
                let d0 = dst + 2 * local * panel + 4 * c
                switch tile {
                case .f2: filterF2(w, d0, d0 + panel, planeStride)
                case .f4: filterF4(w, d0, d0 + panel, planeStride)
                }
            }
        }
    }

    /// Tap `k` (0–8) of the group's eight kernels at `w` (`[9 × 8]`).
    @inline(__always)
    private static func tap(_ w: UnsafePointer<Float>, _ k: Int) -> SIMD8<Float> {
        SIMD8Memory.load(w + 8 * k)
    }

    /// `G g Gᵀ` of F(2×2, 3×3) for the eight kernels at `w` (`[9 × 8]`); plane `i·4 + j` of
    /// filters 0–3 at `d0 + (i·4 + j)·ps`, of filters 4–7 at `d1 + …`.
    @inline(__always)
    private static func filterF2(
        _ w: UnsafePointer<Float>, _ d0: UnsafeMutablePointer<Float>, _ d1: UnsafeMutablePointer<Float>, _ ps: Int
    ) {
        // G g, one column of g at a time: column b is taps (b, 3 + b, 6 + b).
        let (a0, a1, a2, a3) = filter4(tap(w, 0), tap(w, 3), tap(w, 6))
        let (b0, b1, b2, b3) = filter4(tap(w, 1), tap(w, 4), tap(w, 7))
        let (c0, c1, c2, c3) = filter4(tap(w, 2), tap(w, 5), tap(w, 8))
        // (G g) Gᵀ: row i of G g becomes planes i·4 ..< i·4 + 4.
        @inline(__always) func row(_ i: Int, _ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: SIMD8<Float>) {
            let (e0, e1, e2, e3) = filter4(a, b, c)
            let o = i * 4 * ps
            put(e0, d0 + o, d1 + o)
            put(e1, d0 + o + ps, d1 + o + ps)
            put(e2, d0 + o + 2 * ps, d1 + o + 2 * ps)
            put(e3, d0 + o + 3 * ps, d1 + o + 3 * ps)
        }
        row(0, a0, b0, c0)
        row(1, a1, b1, c1)
        row(2, a2, b2, c2)
        row(3, a3, b3, c3)
    }

    /// `G g Gᵀ` of F(4×4, 3×3) for the eight kernels at `w`; plane `i·6 + j` of filters 0–3 at
    /// `d0 + (i·6 + j)·ps`, of filters 4–7 at `d1 + …`.
    @inline(__always)
    private static func filterF4(
        _ w: UnsafePointer<Float>, _ d0: UnsafeMutablePointer<Float>, _ d1: UnsafeMutablePointer<Float>, _ ps: Int
    ) {
        let (a0, a1, a2, a3, a4, a5) = filter6(tap(w, 0), tap(w, 3), tap(w, 6))
        let (b0, b1, b2, b3, b4, b5) = filter6(tap(w, 1), tap(w, 4), tap(w, 7))
        let (c0, c1, c2, c3, c4, c5) = filter6(tap(w, 2), tap(w, 5), tap(w, 8))
        @inline(__always) func row(_ i: Int, _ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: SIMD8<Float>) {
            let (e0, e1, e2, e3, e4, e5) = filter6(a, b, c)
            let o = i * 6 * ps
            put(e0, d0 + o, d1 + o)
            put(e1, d0 + o + ps, d1 + o + ps)
            put(e2, d0 + o + 2 * ps, d1 + o + 2 * ps)
            put(e3, d0 + o + 3 * ps, d1 + o + 3 * ps)
            put(e4, d0 + o + 4 * ps, d1 + o + 4 * ps)
            put(e5, d0 + o + 5 * ps, d1 + o + 5 * ps)
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
        let s = half * (a + c)
        let d = half * b
        return (a, s + d, s - d, c)
    }

    /// `G (a, b, c)ᵀ` of F(4, 3):
    /// `G = [¼ 0 0; −⅙ −⅙ −⅙; −⅙ ⅙ −⅙; 1/24 1/12 ⅙; 1/24 −1/12 ⅙; 0 0 1]`.
    @inline(__always)
    private static func filter6(
        _ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: SIMD8<Float>
    ) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        let sixth = SIMD8<Float>(repeating: 1.0 / 6)
        let s = -sixth * (a + c)
        let d = sixth * b
        let t = SIMD8<Float>(repeating: 1.0 / 24) * a + sixth * c
        let e = SIMD8<Float>(repeating: 1.0 / 12) * b
        return (SIMD8<Float>(repeating: 0.25) * a, s - d, s + d, t + e, t - e, c)
    }

    /// Stores lanes 0–3 of `v` at `low` and lanes 4–7 at `high` (unaligned).
    @inline(__always)
    private static func put(_ v: SIMD8<Float>, _ low: UnsafeMutablePointer<Float>, _ high: UnsafeMutablePointer<Float>)
    {
        UnsafeMutableRawPointer(low).storeBytes(of: v.lowHalf, as: SIMD4<Float>.self)
        UnsafeMutableRawPointer(high).storeBytes(of: v.highHalf, as: SIMD4<Float>.self)
    }
}

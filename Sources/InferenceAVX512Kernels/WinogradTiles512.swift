/// AVX-512 tile transforms of `WinogradConvolution`'s F(4×4, 3×3) (call only when
/// `mscr_cpu_has_avx512()` says so): sixteen tiles a vector instead of eight, with the same
/// operations in the same order as the eight-lane `SIMD8` code, so both give the same bits.
/// A vector holds sixteen consecutive tiles of a block (whichever tile rows they come from), so
/// it lands on a B panel row whole or as two halves, never element by element.
package enum WinogradTiles512 {
    /// Most rows of tiles one vector of sixteen tiles spans (one tile a row).
    static let maxRuns = 16

    @inline(__always)
    static func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }

    @inline(__always)
    static func store16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
    }

    @inline(__always)
    static func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
    }

    /// `V = Bᵀ d B` for tiles `0 ..< count` of a block of tile rows, sixteen at a time (tile `t`
    /// at tile row `t / tilesX`, column `t % tilesX`). `rows`: the phase-split padded plane at
    /// the block's first tile row (padded column `X` of padded row `Y` at
    /// `rows[(4Y + X % 4)·pw + X / 4]`). Tile `t` goes to lane `t % 24` of B panel `t / 24`
    /// (`v + (t / 24)·panelFloats`, `v` at the channel's row of panel 0), plane `p`
    /// `planeStride` further; `panels`: B panels in a plane.
    ///
    /// A vector's tiles may come from several tile rows: one load per row, blended by lane
    /// (each load reads up to 15 floats before its row's first tile, which for every row but the
    /// block's first lie in the plane). Lanes past the last tile read past it (a phase row has
    /// 10 floats of room, the workspace goes on after the last plane) and land in lanes of the
    /// last panel that the products do not store.
    package static func inputF4(
        _ rows: UnsafePointer<Float>, _ pw: Int, _ tilesX: Int, _ count: Int,
        _ v: UnsafeMutablePointer<Float>, _ panelFloats: Int, _ planeStride: Int, _ panels: Int
    ) {
        withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: 36 + maxRuns) { scratch in
            let t = scratch.baseAddress!
            let masks = UnsafeMutableRawPointer(t + 36).assumingMemoryBound(to: SIMD16<Int32>.self)
            withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: maxRuns) { sources in
                let src = sources.baseAddress!
                let lanes = SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
                var g = 0
                while g < count {
                    // Run `k` of the vector: lanes from `start` on read `src[k] + lane`.
                    var runs = 0
                    var i = 0
                    while i < 16 && g + i < count {
                        let r = (g + i) / tilesX
                        let tx = (g + i) % tilesX
                        src[runs] = rows + 16 * r * pw + tx - i
                        masks[runs] = SIMD16(repeating: Int32(i))
                        runs += 1
                        i += min(tilesX - tx, 16 - i)
                    }
                    if runs == 1 {
                        let s = src[0]
                        transform(t, { load16(s + $0) }, g, v, panelFloats, planeStride, panels, pw)
                    } else {
                        transform(
                            t,
                            { off in
                                var x = load16(src[0] + off)
                                for k in 1..<runs {
                                    x.replace(with: load16(src[k] + off), where: lanes .>= masks[k])
                                }
                                return x
                            }, g, v, panelFloats, planeStride, panels, pw)
                    }
                    g += 16
                }
            }
        }
    }

    /// One vector of sixteen tiles from `g` (a multiple of 16): element `(y, x)` is
    /// `element((4y + x % 4)·pw + x / 4)`.
    @inline(__always)
    static func transform(
        _ t: UnsafeMutablePointer<SIMD16<Float>>, _ element: (Int) -> SIMD16<Float>, _ g: Int,
        _ v: UnsafeMutablePointer<Float>, _ panelFloats: Int, _ planeStride: Int, _ panels: Int, _ pw: Int
    ) {
        for y in 0..<6 {
            let row = 4 * y * pw
            let (e0, e1, e2, e3, e4, e5) = transformInput6(
                element(row), element(row + pw), element(row + 2 * pw), element(row + 3 * pw), element(row + 1),
                element(row + pw + 1))
            t[6 * y] = e0
            t[6 * y + 1] = e1
            t[6 * y + 2] = e2
            t[6 * y + 3] = e3
            t[6 * y + 4] = e4
            t[6 * y + 5] = e5
        }
        let panel = g / 24
        let lane = g % 24
        let dst = v + panel * panelFloats + lane
        if lane + 16 <= 24 {
            for j in 0..<6 {
                let (e0, e1, e2, e3, e4, e5) = transformInput6(
                    t[j], t[6 + j], t[12 + j], t[18 + j], t[24 + j], t[30 + j])
                store16(e0, dst + j * planeStride)
                store16(e1, dst + (6 + j) * planeStride)
                store16(e2, dst + (12 + j) * planeStride)
                store16(e3, dst + (18 + j) * planeStride)
                store16(e4, dst + (24 + j) * planeStride)
                store16(e5, dst + (30 + j) * planeStride)
            }
            return
        }
        // Lanes 16 ..< 24 of this panel, then 0 ..< 8 of the next (when there is one).
        let next = panel + 1 < panels ? dst - lane + panelFloats : nil
        for j in 0..<6 {
            let (e0, e1, e2, e3, e4, e5) = transformInput6(t[j], t[6 + j], t[12 + j], t[18 + j], t[24 + j], t[30 + j])
            @inline(__always) func split(_ value: SIMD16<Float>, _ i: Int) {
                let p = (6 * i + j) * planeStride
                store8(value.lowHalf, dst + p)
                if let next { store8(value.highHalf, next + p) }
            }
            split(e0, 0)
            split(e1, 1)
            split(e2, 2)
            split(e3, 3)
            split(e4, 4)
            split(e5, 5)
        }
    }

    /// One 6-point `Bᵀ d` of F(4, 3): `WinogradConvolution.transformInput6` on sixteen lanes.
    @inline(__always)
    static func transformInput6(
        _ d0: SIMD16<Float>, _ d1: SIMD16<Float>, _ d2: SIMD16<Float>, _ d3: SIMD16<Float>, _ d4: SIMD16<Float>,
        _ d5: SIMD16<Float>
    ) -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>) {
        let four = SIMD16<Float>(repeating: 4)
        let five = SIMD16<Float>(repeating: 5)
        let two = SIMD16<Float>(repeating: 2)
        let a = d4 - d2
        let b = d3 - d1
        let e0 = d4.addingProduct(four, d0).addingProduct(-five, d2)
        let e1 = (d4 + d3).addingProduct(-four, d1 + d2)
        let e2 = (d4 - d3).addingProduct(four, d1 - d2)
        let e3 = a.addingProduct(two, b)
        let e4 = a.addingProduct(-two, b)
        let e5 = d5.addingProduct(four, d1).addingProduct(-five, d3)
        return (e0, e1, e2, e3, e4, e5)
    }
}

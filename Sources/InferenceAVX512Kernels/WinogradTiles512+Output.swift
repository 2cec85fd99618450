/// What `WinogradTiles512.outputF4` applies after the bias (the piecewise-linear activations;
/// the others stay on the eight-lane path or run over the finished rows).
package enum WinogradActivation512: Sendable {
    case linear, leaky, relu
}

extension WinogradTiles512 {
    /// One filter's output tiles `0 ..< count` of a block of tile rows back from M:
    /// `Y = Aᵀ M A` sixteen tiles a vector, then bias, activation and (when given) residual,
    /// stored clipped to the map. `m`: the filter's row of M at plane 0 (tile `t` at `m[t]`,
    /// plane `p` `planeStride` further; up to 15 floats past the last tile are read). `out`:
    /// the output at the block's first row (`width` floats a row, `height` rows left in the
    /// map from there); `residual`, likewise, or nil.
    package static func outputF4(
        _ m: UnsafePointer<Float>, _ planeStride: Int, _ count: Int, _ tilesX: Int,
        _ out: UnsafeMutablePointer<Float>, _ width: Int, _ height: Int, _ residual: UnsafePointer<Float>?,
        _ bias: Float, _ activation: WinogradActivation512
    ) {
        withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: 24 + 4) { scratch in
            let t = scratch.baseAddress!
            let row = UnsafeMutableRawPointer(t + 24).assumingMemoryBound(to: Float.self)
            let vb = SIMD16<Float>(repeating: bias)
            var g = 0
            while g < count {
                let src = m + g
                for j in 0..<6 {
                    let (y0, y1, y2, y3) = transformOutput6(
                        load16(src + j * planeStride), load16(src + (6 + j) * planeStride),
                        load16(src + (12 + j) * planeStride), load16(src + (18 + j) * planeStride),
                        load16(src + (24 + j) * planeStride), load16(src + (30 + j) * planeStride))
                    t[j] = y0
                    t[6 + j] = y1
                    t[12 + j] = y2
                    t[18 + j] = y3
                }
                let tiles = min(16, count - g)
                let direct = tiles == 16 && g % tilesX + 16 <= tilesX && 4 * (g % tilesX + 16) <= width
                for r in 0..<4 {
                    let s = 6 * r
                    var (y0, y1, y2, y3) = transformOutput6(t[s], t[s + 1], t[s + 2], t[s + 3], t[s + 4], t[s + 5])
                    y0 += vb
                    y1 += vb
                    y2 += vb
                    y3 += vb
                    // Written out: as a function taking the activation it was not inlined.
                    switch activation {
                    case .linear: break
                    case .leaky:
                        let slope = SIMD16<Float>(repeating: 0.1)
                        y0.replace(with: y0 * slope, where: y0 .<= 0)
                        y1.replace(with: y1 * slope, where: y1 .<= 0)
                        y2.replace(with: y2 * slope, where: y2 .<= 0)
                        y3.replace(with: y3 * slope, where: y3 .<= 0)
                    case .relu:
                        let zero = SIMD16<Float>()
                        y0.replace(with: zero, where: y0 .<= 0)
                        y1.replace(with: zero, where: y1 .<= 0)
                        y2.replace(with: zero, where: y2 .<= 0)
                        y3.replace(with: zero, where: y3 .<= 0)
                    }
                    // Lane l holds tile l: columns 4l ..< 4l + 4 of `row`. A 4×16 transpose.
                    let a0 = SIMD16(
                        y0[0], y1[0], y0[1], y1[1], y0[2], y1[2], y0[3], y1[3],
                        y0[4], y1[4], y0[5], y1[5], y0[6], y1[6], y0[7], y1[7])
                    let a1 = SIMD16(
                        y0[8], y1[8], y0[9], y1[9], y0[10], y1[10], y0[11], y1[11],
                        y0[12], y1[12], y0[13], y1[13], y0[14], y1[14], y0[15], y1[15])
                    let a2 = SIMD16(
                        y2[0], y3[0], y2[1], y3[1], y2[2], y3[2], y2[3], y3[3],
                        y2[4], y3[4], y2[5], y3[5], y2[6], y3[6], y2[7], y3[7])
                    let a3 = SIMD16(
                        y2[8], y3[8], y2[9], y3[9], y2[10], y3[10], y2[11], y3[11],
                        y2[12], y3[12], y2[13], y3[13], y2[14], y3[14], y2[15], y3[15])
                    let z0 = SIMD16(
                        a0[0], a0[1], a2[0], a2[1], a0[2], a0[3], a2[2], a2[3],
                        a0[4], a0[5], a2[4], a2[5], a0[6], a0[7], a2[6], a2[7])
                    let z1 = SIMD16(
                        a0[8], a0[9], a2[8], a2[9], a0[10], a0[11], a2[10], a2[11],
                        a0[12], a0[13], a2[12], a2[13], a0[14], a0[15], a2[14], a2[15])
                    let z2 = SIMD16(
                        a1[0], a1[1], a3[0], a3[1], a1[2], a1[3], a3[2], a3[3],
                        a1[4], a1[5], a3[4], a3[5], a1[6], a1[7], a3[6], a3[7])
                    let z3 = SIMD16(
                        a1[8], a1[9], a3[8], a3[9], a1[10], a1[11], a3[10], a3[11],
                        a1[12], a1[13], a3[12], a3[13], a1[14], a1[15], a3[14], a3[15])
                    let y = 4 * (g / tilesX) + r
                    if direct && y < height {
                        // Sixteen tiles of one tile row, all inside the map: straight to the output.
                        let at = y * width + 4 * (g % tilesX)
                        let dst = out + at
                        if let residual {
                            let res = residual + at
                            store16(z0 + load16(res), dst)
                            store16(z1 + load16(res + 16), dst + 16)
                            store16(z2 + load16(res + 32), dst + 32)
                            store16(z3 + load16(res + 48), dst + 48)
                        } else {
                            store16(z0, dst)
                            store16(z1, dst + 16)
                            store16(z2, dst + 32)
                            store16(z3, dst + 48)
                        }
                        continue
                    }
                    store16(z0, row)
                    store16(z1, row + 16)
                    store16(z2, row + 32)
                    store16(z3, row + 48)
                    // Each run of tiles in one tile row: 4 floats a tile, clipped to the map.
                    var i = 0
                    while i < tiles {
                        let tr = (g + i) / tilesX
                        let tx = (g + i) % tilesX
                        let run = min(tilesX - tx, tiles - i)
                        let y = 4 * tr + r
                        if y < height && !direct {
                            let columns = min(4 * run, width - 4 * tx)
                            let at = y * width + 4 * tx
                            store(row + 4 * i, columns, out + at, residual.map { $0 + at })
                        }
                        i += run
                    }
                }
                g += 16
            }
        }
    }

    /// `dst[0 ..< n] = values[0 ..< n] (+ residual)`: whole vectors of 16, then the rest.
    @inline(__always)
    static func store(
        _ values: UnsafePointer<Float>, _ n: Int, _ dst: UnsafeMutablePointer<Float>, _ residual: UnsafePointer<Float>?
    ) {
        var k = 0
        if let residual {
            while k + 16 <= n {
                store16(load16(values + k) + load16(residual + k), dst + k)
                k += 16
            }
            while k < n {
                dst[k] = values[k] + residual[k]
                k += 1
            }
            return
        }
        while k + 16 <= n {
            store16(load16(values + k), dst + k)
            k += 16
        }
        if k + 8 <= n {
            store8(UnsafeRawPointer(values + k).loadUnaligned(as: SIMD8<Float>.self), dst + k)
            k += 8
        }
        if k + 4 <= n {
            UnsafeMutableRawPointer(dst + k).storeBytes(
                of: UnsafeRawPointer(values + k).loadUnaligned(as: SIMD4<Float>.self), as: SIMD4<Float>.self)
            k += 4
        }
        while k < n {
            dst[k] = values[k]
            k += 1
        }
    }

    /// One 6-point `Aᵀ m` of F(4, 3): `WinogradConvolution.transformOutput6` on sixteen lanes.
    @inline(__always)
    static func transformOutput6(
        _ m0: SIMD16<Float>, _ m1: SIMD16<Float>, _ m2: SIMD16<Float>, _ m3: SIMD16<Float>, _ m4: SIMD16<Float>,
        _ m5: SIMD16<Float>
    ) -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>) {
        let p12 = m1 + m2
        let q12 = m1 - m2
        let p34 = m3 + m4
        let q34 = m3 - m4
        let y0 = m0 + p12 + p34
        let y1 = q12.addingProduct(SIMD16(repeating: 2), q34)
        let y2 = p12.addingProduct(SIMD16(repeating: 4), p34)
        let y3 = q12.addingProduct(SIMD16(repeating: 8), q34) + m5
        return (y0, y1, y2, y3)
    }
}

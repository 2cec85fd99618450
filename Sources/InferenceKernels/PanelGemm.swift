import InferenceAVX512Kernels

/// `C[m×n] = A[m×k] · B[k×n]` on operands already laid out in panels, the way the Winograd
/// transforms write them: A in panels of 4 rows (`[k][4]`, panel `q` at `a + q·4k`) and B in
/// panels of 24 columns (`[k][24]`, panel `j` at `b + j·24k`). Register block: 4 rows × 24
/// columns in twelve accumulators, one broadcast of A and three loads of B per four FMAs.
///
/// Measured on this machine's Zen 3 cores: ~100 GF/s on one core for 64 × 48 × 512, where
/// OpenBLAS reaches 53–62 GF/s on the same small products (it packs both operands and zeroes C
/// in a separate pass on every call) and ~87 on large ones (BENCHMARKS.md, session 5).
package enum PanelGemm {
    /// Columns of a B panel.
    package static let columns = 24

    /// `a [m × k]` (row-major) as A panels: `⌈m/4⌉ × [k × 4]`, rows past `m` zero. Written in
    /// order, four rows read side by side (a model's load packs every such layer).
    package static func packA(_ a: UnsafePointer<Float>, m: Int, k: Int) -> [Float] {
        let panels = (m + 3) / 4
        return [Float](unsafeUninitializedCapacity: panels * 4 * k) { out, initialized in
            var d = out.baseAddress!
            for panel in 0..<panels {
                let rows = min(4, m - 4 * panel)
                let r0 = a + 4 * panel * k
                if rows == 4 {
                    let r1 = r0 + k
                    let r2 = r0 + 2 * k
                    let r3 = r0 + 3 * k
                    for q in 0..<k {
                        d[0] = r0[q]
                        d[1] = r1[q]
                        d[2] = r2[q]
                        d[3] = r3[q]
                        d += 4
                    }
                } else {
                    for q in 0..<k {
                        for r in 0..<4 { d[r] = r < rows ? r0[r * k + q] : 0 }
                        d += 4
                    }
                }
            }
            initialized = panels * 4 * k
        }
    }

    /// The inverse of `packA`.
    package static func unpackA(_ packed: UnsafePointer<Float>, m: Int, k: Int) -> [Float] {
        var a = [Float](repeating: 0, count: m * k)
        for i in 0..<m {
            for q in 0..<k { a[i * k + q] = packed[(i / 4) * 4 * k + 4 * q + i % 4] }
        }
        return a
    }

    /// Writes exactly `C[0 ..< m, 0 ..< n]`: A holds `⌈m/4⌉` panels (rows past `m` of the last
    /// one are read but not stored) and B `⌈n/24⌉` panels, read whole. Edge blocks go through a
    /// small buffer. `isa` picks the register blocks (AVX-512 only where the CPU has it).
    package static func multiply(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, isa: KernelISA = .current
    ) {
        guard m > 0, n > 0, k > 0 else { return }
        let aPanel = 4 * k
        let bPanel = 24 * k
        let wide = isa == .avx512 && KernelISA.detected == .avx512
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 8 * 48) { buffer in
            let edge = buffer.baseAddress!
            var j = 0
            // AVX-512: two whole panels at a time (`PanelGemm512+Panels48`).
            while wide && j + 48 <= n {
                let pb = b + (j / 24) * bPanel
                let cj = c + j
                var q = 0
                while 4 * q < m {
                    let rows = 4 * q + 8 <= m ? 8 : 4
                    let valid = min(rows, m - 4 * q)
                    let dst = valid == rows ? cj + 4 * q * ldc : edge
                    let ld = valid == rows ? ldc : 48
                    let pa = a + q * aPanel
                    if rows == 8 {
                        PanelGemm512.block8x48(k, pa, pa + aPanel, pb, pb + bPanel, dst, ld)
                    } else {
                        PanelGemm512.block4x48(k, pa, pb, pb + bPanel, dst, ld)
                    }
                    if valid < rows {
                        for r in 0..<valid { (cj + (4 * q + r) * ldc).update(from: edge + 48 * r, count: 48) }
                    }
                    q += rows / 4
                }
                j += 48
            }
            while j < n {
                let width = min(24, n - j)
                let pb = b + (j / 24) * bPanel
                let cj = c + j
                if width <= 4 {
                    for col in 0..<width { column(m, k, a, pb + col, cj + col, ldc) }
                    j += 24
                    continue
                }
                var q = 0
                while 4 * q < m {
                    // Two panels against an 8-column group when both are whole; with AVX-512,
                    // against a 24-column panel too.
                    let rows = (width <= 8 || (wide && width > 16)) && 4 * q + 8 <= m ? 8 : 4
                    let valid = min(rows, m - 4 * q)
                    let whole = valid == rows && (width == 24 || width == 16 || width == 8)
                    let dst = whole ? cj + 4 * q * ldc : edge
                    let ld = whole ? ldc : 24
                    let pa = a + q * aPanel
                    if wide && width > 16 {
                        if rows == 8 {
                            PanelGemm512.block8x24(k, pa, pa + aPanel, pb, dst, ld)
                        } else {
                            PanelGemm512.block4x24(k, pa, pb, dst, ld)
                        }
                    } else if width > 16 {
                        block4x24(k, pa, pb, dst, ld)
                    } else if width > 8 {
                        block4x16(k, pa, pb, dst, ld)
                    } else if rows == 8 {
                        block8x8(k, pa, pa + aPanel, pb, dst, ld)
                    } else {
                        block4x8(k, pa, pb, dst, ld)
                    }
                    if !whole {
                        for r in 0..<valid { (cj + (4 * q + r) * ldc).update(from: edge + 24 * r, count: width) }
                    }
                    q += rows / 4
                }
                j += 24
            }
        }
    }

    @inline(__always)
    private static func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> { SIMD8Memory.load(p) }

    @inline(__always)
    private static func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) { SIMD8Memory.store(v, p) }

    private static func block4x24(
        _ k: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        var c00 = SIMD8<Float>()
        var c01 = SIMD8<Float>()
        var c02 = SIMD8<Float>()
        var c10 = SIMD8<Float>()
        var c11 = SIMD8<Float>()
        var c12 = SIMD8<Float>()
        var c20 = SIMD8<Float>()
        var c21 = SIMD8<Float>()
        var c22 = SIMD8<Float>()
        var c30 = SIMD8<Float>()
        var c31 = SIMD8<Float>()
        var c32 = SIMD8<Float>()
        var pa = a
        var pb = b
        for _ in 0..<k {
            let x0 = load(pb)
            let x1 = load(pb + 8)
            let x2 = load(pb + 16)
            let w0 = SIMD8<Float>(repeating: pa[0])
            c00 = c00.addingProduct(x0, w0)
            c01 = c01.addingProduct(x1, w0)
            c02 = c02.addingProduct(x2, w0)
            let w1 = SIMD8<Float>(repeating: pa[1])
            c10 = c10.addingProduct(x0, w1)
            c11 = c11.addingProduct(x1, w1)
            c12 = c12.addingProduct(x2, w1)
            let w2 = SIMD8<Float>(repeating: pa[2])
            c20 = c20.addingProduct(x0, w2)
            c21 = c21.addingProduct(x1, w2)
            c22 = c22.addingProduct(x2, w2)
            let w3 = SIMD8<Float>(repeating: pa[3])
            c30 = c30.addingProduct(x0, w3)
            c31 = c31.addingProduct(x1, w3)
            c32 = c32.addingProduct(x2, w3)
            pa += 4
            pb += 24
        }
        store(c00, c)
        store(c01, c + 8)
        store(c02, c + 16)
        store(c10, c + ldc)
        store(c11, c + ldc + 8)
        store(c12, c + ldc + 16)
        store(c20, c + 2 * ldc)
        store(c21, c + 2 * ldc + 8)
        store(c22, c + 2 * ldc + 16)
        store(c30, c + 3 * ldc)
        store(c31, c + 3 * ldc + 8)
        store(c32, c + 3 * ldc + 16)
    }

    private static func block4x16(
        _ k: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        var c00 = SIMD8<Float>()
        var c01 = SIMD8<Float>()
        var c10 = SIMD8<Float>()
        var c11 = SIMD8<Float>()
        var c20 = SIMD8<Float>()
        var c21 = SIMD8<Float>()
        var c30 = SIMD8<Float>()
        var c31 = SIMD8<Float>()
        var pa = a
        var pb = b
        for _ in 0..<k {
            let x0 = load(pb)
            let x1 = load(pb + 8)
            let w0 = SIMD8<Float>(repeating: pa[0])
            let w1 = SIMD8<Float>(repeating: pa[1])
            c00 = c00.addingProduct(x0, w0)
            c01 = c01.addingProduct(x1, w0)
            c10 = c10.addingProduct(x0, w1)
            c11 = c11.addingProduct(x1, w1)
            let w2 = SIMD8<Float>(repeating: pa[2])
            let w3 = SIMD8<Float>(repeating: pa[3])
            c20 = c20.addingProduct(x0, w2)
            c21 = c21.addingProduct(x1, w2)
            c30 = c30.addingProduct(x0, w3)
            c31 = c31.addingProduct(x1, w3)
            pa += 4
            pb += 24
        }
        store(c00, c)
        store(c01, c + 8)
        store(c10, c + ldc)
        store(c11, c + ldc + 8)
        store(c20, c + 2 * ldc)
        store(c21, c + 2 * ldc + 8)
        store(c30, c + 3 * ldc)
        store(c31, c + 3 * ldc + 8)
    }

    /// Two A panels against one 8-column group: eight independent accumulators.
    private static func block8x8(
        _ k: Int, _ a: UnsafePointer<Float>, _ a2: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        var c0 = SIMD8<Float>()
        var c1 = SIMD8<Float>()
        var c2 = SIMD8<Float>()
        var c3 = SIMD8<Float>()
        var c4 = SIMD8<Float>()
        var c5 = SIMD8<Float>()
        var c6 = SIMD8<Float>()
        var c7 = SIMD8<Float>()
        var pa = a
        var pc = a2
        var pb = b
        for _ in 0..<k {
            let x = load(pb)
            c0 = c0.addingProduct(x, SIMD8(repeating: pa[0]))
            c1 = c1.addingProduct(x, SIMD8(repeating: pa[1]))
            c2 = c2.addingProduct(x, SIMD8(repeating: pa[2]))
            c3 = c3.addingProduct(x, SIMD8(repeating: pa[3]))
            c4 = c4.addingProduct(x, SIMD8(repeating: pc[0]))
            c5 = c5.addingProduct(x, SIMD8(repeating: pc[1]))
            c6 = c6.addingProduct(x, SIMD8(repeating: pc[2]))
            c7 = c7.addingProduct(x, SIMD8(repeating: pc[3]))
            pa += 4
            pc += 4
            pb += 24
        }
        store(c0, c)
        store(c1, c + ldc)
        store(c2, c + 2 * ldc)
        store(c3, c + 3 * ldc)
        store(c4, c + 4 * ldc)
        store(c5, c + 5 * ldc)
        store(c6, c + 6 * ldc)
        store(c7, c + 7 * ldc)
    }

    /// Rows `0 ..< m` of one column of C (column `0` of the B panel at `b`), eight A panels at a
    /// time: eight four-lane accumulators, so a 1-column remainder costs one column, not eight.
    private static func column(
        _ m: Int, _ k: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
        _ ldc: Int
    ) {
        let panels = (m + 3) / 4
        let aPanel = 4 * k
        var q = 0
        while q < panels {
            let n = min(8, panels - q)
            var acc = (
                SIMD4<Float>(), SIMD4<Float>(), SIMD4<Float>(), SIMD4<Float>(),
                SIMD4<Float>(), SIMD4<Float>(), SIMD4<Float>(), SIMD4<Float>()
            )
            let base = a + q * aPanel
            if n == 8 {
                for i in 0..<k {
                    let x = SIMD4<Float>(repeating: b[24 * i])
                    let p = base + 4 * i
                    acc.0 = acc.0.addingProduct(load4(p), x)
                    acc.1 = acc.1.addingProduct(load4(p + aPanel), x)
                    acc.2 = acc.2.addingProduct(load4(p + 2 * aPanel), x)
                    acc.3 = acc.3.addingProduct(load4(p + 3 * aPanel), x)
                    acc.4 = acc.4.addingProduct(load4(p + 4 * aPanel), x)
                    acc.5 = acc.5.addingProduct(load4(p + 5 * aPanel), x)
                    acc.6 = acc.6.addingProduct(load4(p + 6 * aPanel), x)
                    acc.7 = acc.7.addingProduct(load4(p + 7 * aPanel), x)
                }
            }
            withUnsafeBytes(of: &acc) { raw in
                let sums = raw.assumingMemoryBound(to: Float.self)
                for panel in 0..<n {
                    for r in 0..<min(4, m - 4 * (q + panel)) {
                        var s: Float
                        if n == 8 {
                            s = sums[4 * panel + r]
                        } else {
                            s = 0
                            let p = base + panel * aPanel + r
                            for i in 0..<k { s += p[4 * i] * b[24 * i] }
                        }
                        c[(4 * (q + panel) + r) * ldc] = s
                    }
                }
            }
            q += n
        }
    }

    @inline(__always)
    private static func load4(_ p: UnsafePointer<Float>) -> SIMD4<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self)
    }

    private static func block4x8(
        _ k: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        var c0 = SIMD8<Float>()
        var c1 = SIMD8<Float>()
        var c2 = SIMD8<Float>()
        var c3 = SIMD8<Float>()
        var pa = a
        var pb = b
        for _ in 0..<k {
            let x = load(pb)
            c0 = c0.addingProduct(x, SIMD8(repeating: pa[0]))
            c1 = c1.addingProduct(x, SIMD8(repeating: pa[1]))
            c2 = c2.addingProduct(x, SIMD8(repeating: pa[2]))
            c3 = c3.addingProduct(x, SIMD8(repeating: pa[3]))
            pa += 4
            pb += 24
        }
        store(c0, c)
        store(c1, c + ldc)
        store(c2, c + 2 * ldc)
        store(c3, c + 3 * ldc)
    }
}

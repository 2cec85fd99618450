/// `PanelGemm512`'s blocks 48 columns wide (three whole registers a step of k, one step at a
/// time), for B in two adjacent 24-column panels (`block8x48`, `block4x48`: the Winograd and
/// im2col products) or read in place from a row-major B (`block8x48Strided`, `block4x48Strided`:
/// 1×1 layers). The 24-column blocks pair two steps of k into three registers, which costs a
/// shuffle per row and pair to build the mixed `(a[k] ×8, a[k+1] ×8)` broadcast, and on a
/// row-major B also a load split across two rows; here a step's three B registers serve every
/// row (two panels: the middle register joins their halves, one shuffle a step). Measured on
/// yolov8n's 1×1 shapes (1 thread, CPU time, product alone, two alternated runs): 192→64 @80 0.58
/// against 0.75 ms, 384→128 @40 0.58 / 0.73, 64→64 @80 0.20 / 0.27, 32→32 @160 0.26–0.27 /
/// 0.32–0.34 (unfolded panels; in place with 24 columns 0.47), 48→32 @160 0.35–0.36 / 0.47; the
/// Winograd products 215–229 → 253–266 GFLOP/s.
extension PanelGemm512 {
    @inline(__always)
    static func store16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
    }

    /// `C[0 ..< 8, 0 ..< 48] = A · B` for two adjacent B panels (`b`: columns 0–23, `b2`: 24–47)
    /// and A in panels of 4 rows (`a`, then `a2`). The sums run over k in order, one accumulator
    /// per 16 columns.
    package static func block8x48(
        _ k: Int, _ a: UnsafePointer<Float>, _ a2: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
        _ b2: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        block48(rows: 8, k, a, a2, b, b2, 24, inPlace: false, c, ldc)
    }

    /// `C[0 ..< 4, 0 ..< 48] = A · B` for two adjacent B panels (`b`: columns 0–23, `b2`: 24–47)
    /// and A in panels of 4 rows (`a`), as `block8x48`.
    package static func block4x48(
        _ k: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ b2: UnsafePointer<Float>,
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        block48(rows: 4, k, a, a, b, b2, 24, inPlace: false, c, ldc)
    }

    /// `C[0 ..< 8, 0 ..< 48] = A · B` with B read in place (row `q` of the 48 columns at
    /// `b + q·ldb`) and A in panels of 4 rows (`a`, then `a2`): no register mixes two steps, so
    /// no shuffles. The sums run over k in order, one accumulator per 16 columns.
    package static func block8x48Strided(
        _ k: Int, _ a: UnsafePointer<Float>, _ a2: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ ldb: Int,
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        block48(rows: 8, k, a, a2, b, b, ldb, inPlace: true, c, ldc)
    }

    /// `C[0 ..< 4, 0 ..< 48] = A · B` with B read in place, as `block8x48Strided`.
    package static func block4x48Strided(
        _ k: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ ldb: Int,
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        block48(rows: 4, k, a, a, b, b, ldb, inPlace: true, c, ldc)
    }

    /// The four blocks above: `rows` (4 or 8) and `inPlace` are constants at each call, so
    /// inlining leaves each block only its own registers and loads. A step of k reads B's 48
    /// columns at `pb` (in place: `pb ..< pb + 48`; panels: `pb ..< pb + 24` and
    /// `pd ..< pd + 24`), then both move `step` floats.
    @inline(__always)
    private static func block48(
        rows: Int, _ k: Int, _ a: UnsafePointer<Float>, _ a2: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
        _ b2: UnsafePointer<Float>, _ step: Int, inPlace: Bool, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        var x00 = SIMD16<Float>()
        var x01 = SIMD16<Float>()
        var x02 = SIMD16<Float>()
        var x10 = SIMD16<Float>()
        var x11 = SIMD16<Float>()
        var x12 = SIMD16<Float>()
        var x20 = SIMD16<Float>()
        var x21 = SIMD16<Float>()
        var x22 = SIMD16<Float>()
        var x30 = SIMD16<Float>()
        var x31 = SIMD16<Float>()
        var x32 = SIMD16<Float>()
        var x40 = SIMD16<Float>()
        var x41 = SIMD16<Float>()
        var x42 = SIMD16<Float>()
        var x50 = SIMD16<Float>()
        var x51 = SIMD16<Float>()
        var x52 = SIMD16<Float>()
        var x60 = SIMD16<Float>()
        var x61 = SIMD16<Float>()
        var x62 = SIMD16<Float>()
        var x70 = SIMD16<Float>()
        var x71 = SIMD16<Float>()
        var x72 = SIMD16<Float>()
        var pa = a
        var pc = a2
        var pb = b
        var pd = b2
        for _ in 0..<k {
            let b0 = load16(pb)
            let b1 = inPlace ? load16(pb + 16) : SIMD16<Float>(lowHalf: load8(pb + 16), highHalf: load8(pd))
            let b2 = inPlace ? load16(pb + 32) : load16(pd + 8)
            let t0 = SIMD16<Float>(repeating: pa[0])
            x00 = x00.addingProduct(b0, t0)
            x01 = x01.addingProduct(b1, t0)
            x02 = x02.addingProduct(b2, t0)
            let t1 = SIMD16<Float>(repeating: pa[1])
            x10 = x10.addingProduct(b0, t1)
            x11 = x11.addingProduct(b1, t1)
            x12 = x12.addingProduct(b2, t1)
            let t2 = SIMD16<Float>(repeating: pa[2])
            x20 = x20.addingProduct(b0, t2)
            x21 = x21.addingProduct(b1, t2)
            x22 = x22.addingProduct(b2, t2)
            let t3 = SIMD16<Float>(repeating: pa[3])
            x30 = x30.addingProduct(b0, t3)
            x31 = x31.addingProduct(b1, t3)
            x32 = x32.addingProduct(b2, t3)
            if rows == 8 {
                let t4 = SIMD16<Float>(repeating: pc[0])
                x40 = x40.addingProduct(b0, t4)
                x41 = x41.addingProduct(b1, t4)
                x42 = x42.addingProduct(b2, t4)
            }
            if rows == 8 {
                let t5 = SIMD16<Float>(repeating: pc[1])
                x50 = x50.addingProduct(b0, t5)
                x51 = x51.addingProduct(b1, t5)
                x52 = x52.addingProduct(b2, t5)
            }
            if rows == 8 {
                let t6 = SIMD16<Float>(repeating: pc[2])
                x60 = x60.addingProduct(b0, t6)
                x61 = x61.addingProduct(b1, t6)
                x62 = x62.addingProduct(b2, t6)
            }
            if rows == 8 {
                let t7 = SIMD16<Float>(repeating: pc[3])
                x70 = x70.addingProduct(b0, t7)
                x71 = x71.addingProduct(b1, t7)
                x72 = x72.addingProduct(b2, t7)
            }
            pa += 4
            pc += 4
            pb += step
            pd += step
        }
        store16(x00, c + 0 * ldc + 0)
        store16(x01, c + 0 * ldc + 16)
        store16(x02, c + 0 * ldc + 32)
        store16(x10, c + 1 * ldc + 0)
        store16(x11, c + 1 * ldc + 16)
        store16(x12, c + 1 * ldc + 32)
        store16(x20, c + 2 * ldc + 0)
        store16(x21, c + 2 * ldc + 16)
        store16(x22, c + 2 * ldc + 32)
        store16(x30, c + 3 * ldc + 0)
        store16(x31, c + 3 * ldc + 16)
        store16(x32, c + 3 * ldc + 32)
        guard rows == 8 else { return }
        store16(x40, c + 4 * ldc + 0)
        store16(x41, c + 4 * ldc + 16)
        store16(x42, c + 4 * ldc + 32)
        store16(x50, c + 5 * ldc + 0)
        store16(x51, c + 5 * ldc + 16)
        store16(x52, c + 5 * ldc + 32)
        store16(x60, c + 6 * ldc + 0)
        store16(x61, c + 6 * ldc + 16)
        store16(x62, c + 6 * ldc + 32)
        store16(x70, c + 7 * ldc + 0)
        store16(x71, c + 7 * ldc + 16)
        store16(x72, c + 7 * ldc + 32)
    }
}

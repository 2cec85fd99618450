/// `PanelGemm512`'s blocks for two adjacent 24-column B panels at once (48 columns, one step of k
/// at a time): `block8x24` pairs two steps of k into three registers, which needs a mixed
/// `(a[k] ×8, a[k+1] ×8)` A broadcast, a shuffle for every row and pair; here the one shuffle a
/// step joins two B halves and serves all rows.
extension PanelGemm512 {
    /// `C[0 ..< 8, 0 ..< 48] = A · B` for two adjacent B panels (`b`: columns 0–23, `b2`: 24–47)
    /// and A in panels of 4 rows (`a`, then `a2`): each step of k is three whole registers of B (the
    /// middle one joins the two panels' halves, once for every row) times each row's broadcast A
    /// value. The sums run over k in order, one accumulator per 16 columns.
    package static func block8x48(
        _ k: Int, _ a: UnsafePointer<Float>, _ a2: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
        _ b2: UnsafePointer<Float>,
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int
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
            let b1 = SIMD16<Float>(lowHalf: load8(pb + 16), highHalf: load8(pd))
            let b2 = load16(pd + 8)
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
            let t4 = SIMD16<Float>(repeating: pc[0])
            x40 = x40.addingProduct(b0, t4)
            x41 = x41.addingProduct(b1, t4)
            x42 = x42.addingProduct(b2, t4)
            let t5 = SIMD16<Float>(repeating: pc[1])
            x50 = x50.addingProduct(b0, t5)
            x51 = x51.addingProduct(b1, t5)
            x52 = x52.addingProduct(b2, t5)
            let t6 = SIMD16<Float>(repeating: pc[2])
            x60 = x60.addingProduct(b0, t6)
            x61 = x61.addingProduct(b1, t6)
            x62 = x62.addingProduct(b2, t6)
            let t7 = SIMD16<Float>(repeating: pc[3])
            x70 = x70.addingProduct(b0, t7)
            x71 = x71.addingProduct(b1, t7)
            x72 = x72.addingProduct(b2, t7)
            pa += 4
            pc += 4
            pb += 24
            pd += 24
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

    /// `C[0 ..< 4, 0 ..< 48] = A · B` for two adjacent B panels (`b`: columns 0–23, `b2`: 24–47)
    /// and A in panels of 4 rows (`a`): each step of k is three whole registers of B (the
    /// middle one joins the two panels' halves, once for every row) times each row's broadcast A
    /// value. The sums run over k in order, one accumulator per 16 columns.
    package static func block4x48(
        _ k: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ b2: UnsafePointer<Float>,
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int
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
        var pa = a
        var pb = b
        var pd = b2
        for _ in 0..<k {
            let b0 = load16(pb)
            let b1 = SIMD16<Float>(lowHalf: load8(pb + 16), highHalf: load8(pd))
            let b2 = load16(pd + 8)
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
            pa += 4
            pb += 24
            pd += 24
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
    }
}

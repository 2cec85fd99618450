/// AVX-512 register blocks for `PanelGemm` (compiled for Skylake-SP's AVX-512 subset; call only
/// when `mscr_cpu_has_avx512()` says so). The panels are `PanelGemm`'s own: A in panels of 4 rows
/// (`[k][4]`), B in panels of 24 columns (`[k][24]`), so packed weights, artifacts and the
/// Winograd and im2col writers are the same on every CPU.
///
/// 24 columns are one and a half 16-lane registers. Two steps of k are 48 consecutive floats of
/// a B panel, three whole registers: `x0` = step k, columns 0–15; `x1` = step k columns 16–23
/// then step k+1 columns 0–7; `x2` = step k+1, columns 8–23. Each row multiplies them by
/// `a[k]`, `(a[k] ×8, a[k+1] ×8)` and `a[k+1]`, so every FMA is 16 lanes wide; the halves are
/// added into the right columns once, at the end.
package enum PanelGemm512 {
    @inline(__always)
    static func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }

    @inline(__always)
    static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always)
    static func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
    }

    /// One row's three accumulators.
    struct Row {
        var x0 = SIMD16<Float>()
        var x1 = SIMD16<Float>()
        var x2 = SIMD16<Float>()

        /// Steps k and k+1 of the row whose A values are `a` (step k) and `a1` (step k+1).
        @inline(__always)
        mutating func pair(_ b0: SIMD16<Float>, _ b1: SIMD16<Float>, _ b2: SIMD16<Float>, _ a: Float, _ a1: Float) {
            x0 = x0.addingProduct(b0, SIMD16(repeating: a))
            x1 = x1.addingProduct(b1, SIMD16(lowHalf: SIMD8(repeating: a), highHalf: SIMD8(repeating: a1)))
            x2 = x2.addingProduct(b2, SIMD16(repeating: a1))
        }

        /// A last, unpaired step k: columns 0–15 in `x0`, 16–23 in the low half of `x1`.
        @inline(__always)
        mutating func single(_ b0: SIMD16<Float>, _ b1: SIMD16<Float>, _ a: Float) {
            let w = SIMD16<Float>(repeating: a)
            x0 = x0.addingProduct(b0, w)
            x1 = x1.addingProduct(b1, w)
        }

        /// Writes the row's 24 columns at `c`.
        @inline(__always)
        func store(_ c: UnsafeMutablePointer<Float>) {
            store8(x0.lowHalf + x1.highHalf, c)
            store8(x0.highHalf + x2.lowHalf, c + 8)
            store8(x1.lowHalf + x2.highHalf, c + 16)
        }
    }

    /// `C[0 ..< 8, 0 ..< 24] = A · B` for two A panels (`a`, `a2`) and one B panel; rows of C
    /// are `ldc` apart.
    package static func block8x24(
        _ k: Int, _ a: UnsafePointer<Float>, _ a2: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        var r0 = Row()
        var r1 = Row()
        var r2 = Row()
        var r3 = Row()
        var r4 = Row()
        var r5 = Row()
        var r6 = Row()
        var r7 = Row()
        var pa = a
        var pc = a2
        var pb = b
        for _ in 0..<(k / 2) {
            let b0 = load16(pb)
            let b1 = load16(pb + 16)
            let b2 = load16(pb + 32)
            r0.pair(b0, b1, b2, pa[0], pa[4])
            r1.pair(b0, b1, b2, pa[1], pa[5])
            r2.pair(b0, b1, b2, pa[2], pa[6])
            r3.pair(b0, b1, b2, pa[3], pa[7])
            r4.pair(b0, b1, b2, pc[0], pc[4])
            r5.pair(b0, b1, b2, pc[1], pc[5])
            r6.pair(b0, b1, b2, pc[2], pc[6])
            r7.pair(b0, b1, b2, pc[3], pc[7])
            pa += 8
            pc += 8
            pb += 48
        }
        if k & 1 == 1 {
            let b0 = load16(pb)
            let b1 = SIMD16<Float>(lowHalf: load8(pb + 16), highHalf: SIMD8())
            r0.single(b0, b1, pa[0])
            r1.single(b0, b1, pa[1])
            r2.single(b0, b1, pa[2])
            r3.single(b0, b1, pa[3])
            r4.single(b0, b1, pc[0])
            r5.single(b0, b1, pc[1])
            r6.single(b0, b1, pc[2])
            r7.single(b0, b1, pc[3])
        }
        r0.store(c)
        r1.store(c + ldc)
        r2.store(c + 2 * ldc)
        r3.store(c + 3 * ldc)
        r4.store(c + 4 * ldc)
        r5.store(c + 5 * ldc)
        r6.store(c + 6 * ldc)
        r7.store(c + 7 * ldc)
    }

    /// `C[0 ..< 4, 0 ..< 24] = A · B` for one A panel and one B panel.
    package static func block4x24(
        _ k: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        var r0 = Row()
        var r1 = Row()
        var r2 = Row()
        var r3 = Row()
        var pa = a
        var pb = b
        for _ in 0..<(k / 2) {
            let b0 = load16(pb)
            let b1 = load16(pb + 16)
            let b2 = load16(pb + 32)
            r0.pair(b0, b1, b2, pa[0], pa[4])
            r1.pair(b0, b1, b2, pa[1], pa[5])
            r2.pair(b0, b1, b2, pa[2], pa[6])
            r3.pair(b0, b1, b2, pa[3], pa[7])
            pa += 8
            pb += 48
        }
        if k & 1 == 1 {
            let b0 = load16(pb)
            let b1 = SIMD16<Float>(lowHalf: load8(pb + 16), highHalf: SIMD8())
            r0.single(b0, b1, pa[0])
            r1.single(b0, b1, pa[1])
            r2.single(b0, b1, pa[2])
            r3.single(b0, b1, pa[3])
        }
        r0.store(c)
        r1.store(c + ldc)
        r2.store(c + 2 * ldc)
        r3.store(c + 3 * ldc)
    }

    /// `block8x24` with B read in place: row `q` of the 24 columns at `b + q·ldb` (a row-major
    /// `[k × ldb]` matrix, e.g. a 1×1 convolution's input planes), so nothing is packed. The same
    /// pairing of two steps of k into three registers, the same sums in the same order.
    package static func block8x24Strided(
        _ k: Int, _ a: UnsafePointer<Float>, _ a2: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ ldb: Int,
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        var r0 = Row()
        var r1 = Row()
        var r2 = Row()
        var r3 = Row()
        var r4 = Row()
        var r5 = Row()
        var r6 = Row()
        var r7 = Row()
        var pa = a
        var pc = a2
        var pb = b
        for _ in 0..<(k / 2) {
            let b0 = load16(pb)
            let b1 = SIMD16<Float>(lowHalf: load8(pb + 16), highHalf: load8(pb + ldb))
            let b2 = load16(pb + ldb + 8)
            r0.pair(b0, b1, b2, pa[0], pa[4])
            r1.pair(b0, b1, b2, pa[1], pa[5])
            r2.pair(b0, b1, b2, pa[2], pa[6])
            r3.pair(b0, b1, b2, pa[3], pa[7])
            r4.pair(b0, b1, b2, pc[0], pc[4])
            r5.pair(b0, b1, b2, pc[1], pc[5])
            r6.pair(b0, b1, b2, pc[2], pc[6])
            r7.pair(b0, b1, b2, pc[3], pc[7])
            pa += 8
            pc += 8
            pb += 2 * ldb
        }
        if k & 1 == 1 {
            let b0 = load16(pb)
            let b1 = SIMD16<Float>(lowHalf: load8(pb + 16), highHalf: SIMD8())
            r0.single(b0, b1, pa[0])
            r1.single(b0, b1, pa[1])
            r2.single(b0, b1, pa[2])
            r3.single(b0, b1, pa[3])
            r4.single(b0, b1, pc[0])
            r5.single(b0, b1, pc[1])
            r6.single(b0, b1, pc[2])
            r7.single(b0, b1, pc[3])
        }
        r0.store(c)
        r1.store(c + ldc)
        r2.store(c + 2 * ldc)
        r3.store(c + 3 * ldc)
        r4.store(c + 4 * ldc)
        r5.store(c + 5 * ldc)
        r6.store(c + 6 * ldc)
        r7.store(c + 7 * ldc)
    }

    /// `block4x24` with B read in place (see `block8x24Strided`).
    package static func block4x24Strided(
        _ k: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ ldb: Int, _ c: UnsafeMutablePointer<Float>,
        _ ldc: Int
    ) {
        var r0 = Row()
        var r1 = Row()
        var r2 = Row()
        var r3 = Row()
        var pa = a
        var pb = b
        for _ in 0..<(k / 2) {
            let b0 = load16(pb)
            let b1 = SIMD16<Float>(lowHalf: load8(pb + 16), highHalf: load8(pb + ldb))
            let b2 = load16(pb + ldb + 8)
            r0.pair(b0, b1, b2, pa[0], pa[4])
            r1.pair(b0, b1, b2, pa[1], pa[5])
            r2.pair(b0, b1, b2, pa[2], pa[6])
            r3.pair(b0, b1, b2, pa[3], pa[7])
            pa += 8
            pb += 2 * ldb
        }
        if k & 1 == 1 {
            let b0 = load16(pb)
            let b1 = SIMD16<Float>(lowHalf: load8(pb + 16), highHalf: SIMD8())
            r0.single(b0, b1, pa[0])
            r1.single(b0, b1, pa[1])
            r2.single(b0, b1, pa[2])
            r3.single(b0, b1, pa[3])
        }
        r0.store(c)
        r1.store(c + ldc)
        r2.store(c + 2 * ldc)
        r3.store(c + 3 * ldc)
    }
}

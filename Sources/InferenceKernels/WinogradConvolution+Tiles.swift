/// `WinogradConvolution`'s per-tile work: eight tiles at a time in `SIMD8` lanes, the input
/// transforms (`V = Bᵀ d B`) writing straight into the GEMM's B panels, the output transforms
/// (`Y = Aᵀ M A`) with bias, activation and residual applied before the clipped store, and the
/// zero, phase-split padding of each input plane.
extension WinogradConvolution {
    // MARK: - Vectors

    /// Eight floats at `p` (unaligned). Element-wise, which LLVM folds into one `vmovups`, and
    /// always inlined (the stdlib's generic `loadUnaligned` is not, in functions this large).
    @inline(__always)
    static func vload(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        SIMD8(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7])
    }

    @inline(__always)
    static func vload(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> { vload(UnsafePointer(p)) }

    /// Stores `v` at `p` (unaligned), element-wise like `vload`.
    @inline(__always)
    static func vstore(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        p[0] = v[0]
        p[1] = v[1]
        p[2] = v[2]
        p[3] = v[3]
        p[4] = v[4]
        p[5] = v[5]
        p[6] = v[6]
        p[7] = v[7]
    }

    // MARK: - Stores

    /// Eight horizontally adjacent output tiles of one filter: `rows × columns` floats (clipped to
    /// the plane) at `base`, `width` apart; the bias and activation are applied before the store.
    struct OutputTiles {
        let base: UnsafeMutablePointer<Float>
        /// Where the residual added after the activation starts, like `base`, or nil.
        let residual: UnsafePointer<Float>?
        let width: Int
        let rows: Int, columns: Int
        let bias: Float
        let activation: Activation
    }

    @inline(__always)
    static func activate(_ v: SIMD8<Float>, _ act: Activation) -> SIMD8<Float> {
        switch act {
        case .linear: return v
        case .leaky: return v.replacing(with: v * SIMD8(repeating: 0.1), where: v .<= 0)
        case .relu: return v.replacing(with: SIMD8(repeating: 0), where: v .<= 0)
        case .swish: return Activation.swish(v)
        case .logistic, .mish:
            var r = v
            for l in 0..<8 { r[l] = act.apply(v[l]) }
            return r
        }
    }

    /// Stores `columns` floats of `v` (`0 ..< 8·count` of them) at `p`, plus `residual`'s when
    /// given: whole vectors, then the rest.
    @inline(__always)
    static func storeClipped(
        _ v: UnsafePointer<SIMD8<Float>>, _ count: Int, _ columns: Int, _ p: UnsafeMutablePointer<Float>,
        _ residual: UnsafePointer<Float>?
    ) {
        let whole = min(count, columns / 8)
        if let residual {
            for i in 0..<whole { vstore(v[i] + vload(residual + 8 * i), p + 8 * i) }
            for i in (whole * 8)..<min(columns, 8 * count) { p[i] = v[i / 8][i % 8] + residual[i] }
            return
        }
        for i in 0..<whole { vstore(v[i], p + 8 * i) }
        for i in (whole * 8)..<min(columns, 8 * count) { p[i] = v[i / 8][i % 8] }
    }

    // MARK: - F(2×2, 3×3)

    /// Element `(y, x)` of eight adjacent input tiles whose first lies at `at` (phase-split
    /// padded plane with `m`-column tiles, `pw` floats a phase row).
    @inline(__always)
    static func load(_ at: UnsafePointer<Float>, _ pw: Int, _ m: Int, _ y: Int, _ x: Int) -> SIMD8<Float> {
        vload(at + (y * m + x % m) * pw + x / m)
    }

    /// `V = Bᵀ d B` for eight 4×4 tiles, `Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]`;
    /// plane `i·4 + j` at `dst + (i·4 + j)·planeStride`.
    @inline(__always)
    static func inputF2(
        _ at: UnsafePointer<Float>, _ pw: Int, _ dst: UnsafeMutablePointer<Float>, _ planeStride: Int,
        _ t: UnsafeMutablePointer<SIMD8<Float>>
    ) {
        for y in 0..<4 {
            let d0 = load(at, pw, 2, y, 0)
            let d1 = load(at, pw, 2, y, 1)
            let d2 = load(at, pw, 2, y, 2)
            let d3 = load(at, pw, 2, y, 3)
            t[y * 4] = d0 - d2
            t[y * 4 + 1] = d1 + d2
            t[y * 4 + 2] = d2 - d1
            t[y * 4 + 3] = d1 - d3
        }
        for j in 0..<4 {
            let d0 = t[j]
            let d1 = t[4 + j]
            let d2 = t[8 + j]
            let d3 = t[12 + j]
            vstore(d0 - d2, dst + j * planeStride)
            vstore(d1 + d2, dst + (4 + j) * planeStride)
            vstore(d2 - d1, dst + (8 + j) * planeStride)
            vstore(d1 - d3, dst + (12 + j) * planeStride)
        }
    }

    /// `Y = Aᵀ M A` for eight tiles, `Aᵀ = [1 1 1 0; 0 1 −1 −1]`, then bias, activation, store.
    @inline(__always)
    static func outputF2(
        _ src: UnsafePointer<Float>, _ planeStride: Int, _ out: OutputTiles, _ t: UnsafeMutablePointer<SIMD8<Float>>
    ) {
        let bias = SIMD8<Float>(repeating: out.bias)
        for j in 0..<4 {
            let m0 = vload(src + j * planeStride)
            let m1 = vload(src + (4 + j) * planeStride)
            let m2 = vload(src + (8 + j) * planeStride)
            let m3 = vload(src + (12 + j) * planeStride)
            t[j] = m0 + m1 + m2
            t[4 + j] = m1 - m2 - m3
        }
        let row = t + 8
        for r in 0..<out.rows {
            let s0 = t[r * 4]
            let s1 = t[r * 4 + 1]
            let s2 = t[r * 4 + 2]
            let s3 = t[r * 4 + 3]
            let y0 = activate(s0 + s1 + s2 + bias, out.activation)
            let y1 = activate(s1 - s2 - s3 + bias, out.activation)
            // Lane l holds tile l: columns 2l, 2l + 1.
            let a = SIMD8(y0[0], y1[0], y0[1], y1[1], y0[4], y1[4], y0[5], y1[5])
            let b = SIMD8(y0[2], y1[2], y0[3], y1[3], y0[6], y1[6], y0[7], y1[7])
            row[0] = SIMD8(lowHalf: a.lowHalf, highHalf: b.lowHalf)
            row[1] = SIMD8(lowHalf: a.highHalf, highHalf: b.highHalf)
            storeClipped(row, 2, out.columns, out.base + r * out.width, out.residual.map { $0 + r * out.width })
        }
    }

    // MARK: - F(4×4, 3×3)

    /// `V = Bᵀ d B` for eight 6×6 tiles with
    /// `Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1]`;
    /// plane `i·6 + j` at `dst + (i·6 + j)·planeStride`.
    @inline(__always)
    static func inputF4(
        _ at: UnsafePointer<Float>, _ pw: Int, _ dst: UnsafeMutablePointer<Float>, _ planeStride: Int,
        _ t: UnsafeMutablePointer<SIMD8<Float>>
    ) {
        for y in 0..<6 {
            let (e0, e1, e2, e3, e4, e5) = transformInput6(
                load(at, pw, 4, y, 0), load(at, pw, 4, y, 1), load(at, pw, 4, y, 2),
                load(at, pw, 4, y, 3), load(at, pw, 4, y, 4), load(at, pw, 4, y, 5))
            t[y * 6] = e0
            t[y * 6 + 1] = e1
            t[y * 6 + 2] = e2
            t[y * 6 + 3] = e3
            t[y * 6 + 4] = e4
            t[y * 6 + 5] = e5
        }
        for j in 0..<6 {
            let (e0, e1, e2, e3, e4, e5) = transformInput6(t[j], t[6 + j], t[12 + j], t[18 + j], t[24 + j], t[30 + j])
            vstore(e0, dst + j * planeStride)
            vstore(e1, dst + (6 + j) * planeStride)
            vstore(e2, dst + (12 + j) * planeStride)
            vstore(e3, dst + (18 + j) * planeStride)
            vstore(e4, dst + (24 + j) * planeStride)
            vstore(e5, dst + (30 + j) * planeStride)
        }
    }

    /// One 6-point `Bᵀ d` of F(4, 3).
    @inline(__always)
    static func transformInput6(
        _ d0: SIMD8<Float>, _ d1: SIMD8<Float>, _ d2: SIMD8<Float>, _ d3: SIMD8<Float>, _ d4: SIMD8<Float>,
        _ d5: SIMD8<Float>
    ) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        let four = SIMD8<Float>(repeating: 4)
        let five = SIMD8<Float>(repeating: 5)
        let two = SIMD8<Float>(repeating: 2)
        // Products with the constants as fused multiply-adds (14 vector operations, not 22).
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

    /// One 6-point `Aᵀ m` of F(4, 3), `Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1]`.
    @inline(__always)
    static func transformOutput6(
        _ m0: SIMD8<Float>, _ m1: SIMD8<Float>, _ m2: SIMD8<Float>, _ m3: SIMD8<Float>, _ m4: SIMD8<Float>,
        _ m5: SIMD8<Float>
    ) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        let p12 = m1 + m2
        let q12 = m1 - m2
        let p34 = m3 + m4
        let q34 = m3 - m4
        let y0 = m0 + p12 + p34
        let y1 = q12.addingProduct(SIMD8(repeating: 2), q34)
        let y2 = p12.addingProduct(SIMD8(repeating: 4), p34)
        let y3 = q12.addingProduct(SIMD8(repeating: 8), q34) + m5
        return (y0, y1, y2, y3)
    }

    /// `Y = Aᵀ M A` for eight tiles, then bias, activation, store.
    @inline(__always)
    static func outputF4(
        _ src: UnsafePointer<Float>, _ planeStride: Int, _ out: OutputTiles, _ t: UnsafeMutablePointer<SIMD8<Float>>
    ) {
        let bias = SIMD8<Float>(repeating: out.bias)
        for j in 0..<6 {
            let (y0, y1, y2, y3) = transformOutput6(
                vload(src + j * planeStride), vload(src + (6 + j) * planeStride),
                vload(src + (12 + j) * planeStride), vload(src + (18 + j) * planeStride),
                vload(src + (24 + j) * planeStride), vload(src + (30 + j) * planeStride))
            t[j] = y0
            t[6 + j] = y1
            t[12 + j] = y2
            t[18 + j] = y3
        }
        let row = t + 24
        for r in 0..<out.rows {
            let s = r * 6
            var (y0, y1, y2, y3) = transformOutput6(t[s], t[s + 1], t[s + 2], t[s + 3], t[s + 4], t[s + 5])
            y0 = activate(y0 + bias, out.activation)
            y1 = activate(y1 + bias, out.activation)
            y2 = activate(y2 + bias, out.activation)
            y3 = activate(y3 + bias, out.activation)
            // Lane l holds tile l: columns 4l ..< 4l + 4. A 4×8 transpose.
            let a0 = SIMD8(y0[0], y1[0], y0[1], y1[1], y0[4], y1[4], y0[5], y1[5])
            let a1 = SIMD8(y0[2], y1[2], y0[3], y1[3], y0[6], y1[6], y0[7], y1[7])
            let a2 = SIMD8(y2[0], y3[0], y2[1], y3[1], y2[4], y3[4], y2[5], y3[5])
            let a3 = SIMD8(y2[2], y3[2], y2[3], y3[3], y2[6], y3[6], y2[7], y3[7])
            let b0 = SIMD8(a0[0], a0[1], a2[0], a2[1], a0[4], a0[5], a2[4], a2[5])
            let b1 = SIMD8(a0[2], a0[3], a2[2], a2[3], a0[6], a0[7], a2[6], a2[7])
            let b2 = SIMD8(a1[0], a1[1], a3[0], a3[1], a1[4], a1[5], a3[4], a3[5])
            let b3 = SIMD8(a1[2], a1[3], a3[2], a3[3], a1[6], a1[7], a3[6], a3[7])
            row[0] = SIMD8(lowHalf: b0.lowHalf, highHalf: b1.lowHalf)
            row[1] = SIMD8(lowHalf: b2.lowHalf, highHalf: b3.lowHalf)
            row[2] = SIMD8(lowHalf: b0.highHalf, highHalf: b1.highHalf)
            row[3] = SIMD8(lowHalf: b2.highHalf, highHalf: b3.highHalf)
            storeClipped(row, 4, out.columns, out.base + r * out.width, out.residual.map { $0 + r * out.width })
        }
    }

    // MARK: - Padding

    /// Copies one `height × width` plane into a zero, phase-split padded plane (see `Plan`):
    /// input `(y, x)` goes to padded `(y + pad, X = x + pad)`, stored at phase row
    /// `(y + pad)·m + X % m`, element `X / m`. Rows and columns no tile reads are left out.
    static func padPlane(
        _ src: UnsafePointer<Float>, _ height: Int, _ width: Int, _ pad: Int,
        _ dst: UnsafeMutablePointer<Float>, _ plan: Plan
    ) {
        let m = plan.tile.output
        let pw = plan.phaseWidth
        dst.initialize(repeating: 0, count: plan.paddedPlane)
        let rows = min(height, plan.paddedRows - pad)
        let cols = min(width, plan.tilesX * m + 2 - pad)
        guard rows > 0, cols > 0 else { return }
        // Elements `vector0 ..< vector1` of every phase come from whole 16-float loads, split
        // into the phases by lane (16/m elements of each per load); the rest one by one.
        let step = 16 / m
        let vector0 = (pad + m - 1) / m
        var vector1 = vector0
        if m == 2 || m == 4 {
            while m * vector1 - pad + 16 <= cols { vector1 += step }
        }
        for y in 0..<rows {
            let s = src + y * width
            let d = dst + (y + pad) * m * pw
            var t = vector0
            while t < vector1 {
                let v = UnsafeRawPointer(s + m * t - pad).loadUnaligned(as: SIMD16<Float>.self)
                if m == 4 {
                    let even = v.evenHalf
                    let odd = v.oddHalf
                    UnsafeMutableRawPointer(d + t).storeBytes(of: even.evenHalf, as: SIMD4<Float>.self)
                    UnsafeMutableRawPointer(d + pw + t).storeBytes(of: odd.evenHalf, as: SIMD4<Float>.self)
                    UnsafeMutableRawPointer(d + 2 * pw + t).storeBytes(of: even.oddHalf, as: SIMD4<Float>.self)
                    UnsafeMutableRawPointer(d + 3 * pw + t).storeBytes(of: odd.oddHalf, as: SIMD4<Float>.self)
                } else {
                    SIMD8Memory.store(v.evenHalf, d + t)
                    SIMD8Memory.store(v.oddHalf, d + pw + t)
                }
                t += step
            }
            for q in 0..<m {
                // Padded column X = m·t + q reads input column X − pad.
                var t = q >= pad ? 0 : (pad - q + m - 1) / m
                let row = d + q * pw
                while m * t + q - pad < cols {
                    if t == vector0 && vector1 > vector0 {
                        t = vector1
                        continue
                    }
                    row[t] = s[m * t + q - pad]
                    t += 1
                }
            }
        }
    }
}

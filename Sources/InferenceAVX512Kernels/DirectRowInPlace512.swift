/// AVX-512 stride-2 rows of `DirectConvolution` read straight from the input planes (call only
/// when `mscr_cpu_has_avx512()` says so): no padded, column-split copy of the input. For sixteen
/// output pixels `x ..< x + 16` and one input row, the taps are input columns `2x − pad + kx + 2i`:
/// two loads at `2x − pad` de-interleaved give `kx = 0` (even lanes) and `kx = 1` (odd lanes), the
/// odd lanes of two at `2x − pad + 1` give `kx = 2`, so a step of `n` pixels reads columns
/// `2x − pad ... 2x − pad + 2n`. Rows above or below the image are skipped (their taps would add
/// exact zeros, so the sums equal the padded kernel's); a step whose columns reach past the row
/// (the first with padding, the last of an odd width) reads a zero-padded copy of those columns
/// (`staging`). The same regrouped weights (`[group][channel][ky][kx][8]`) and the same order of
/// sums as `DirectRow512` and the AVX2 loop, so the outputs are the same bit for bit.
package enum DirectRowInPlace512 {
    /// Floats per staged row: the 65 columns a 32-pixel step reads, and three more.
    private static let stagedRow = 68

    /// Floats of `staging` a `row` call needs (per thread).
    package static func stagingSize(channels: Int) -> Int { channels * 3 * stagedRow }

    @inline(__always)
    static func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }

    /// Output row `y` (all `ow` ≥ 16 pixels) of the `count` (≤ 8) filters of one group at stride 2
    /// and 3×3: steps of 32 pixels while they fit in the row, then of 16 (the last one ending at
    /// `ow`, overlapping the one before: the same sums), staged where their columns pass the row's ends.
    /// `output` is that group's first output plane, `input` the layer's `[channels × height ×
    /// width]`. `mode`: 1 leaky (0.1), 2 relu, anything else the sum (the caller activates the row).
    package static func row(
        y: Int, count: Int, input: UnsafePointer<Float>, height: Int, width: Int, pad: Int,
        channels: Int, weights w: UnsafePointer<Float>, bias: UnsafePointer<Float>, mode: Int,
        output out: UnsafeMutablePointer<Float>, outHeight oh: Int, outWidth ow: Int,
        staging: UnsafeMutablePointer<Float>
    ) {
        let top = 2 * y - pad
        let ky0 = max(0, -top)
        let ky1 = min(3, height - top)
        let cs = height * width
        let plane = oh * ow
        let o = out + y * ow
        @inline(__always) func fits(_ x: Int, _ pixels: Int) -> Bool {
            x + pixels <= ow && 2 * x - pad >= 0 && 2 * x - pad + 2 * pixels < width
        }
        // A step of `pixels` at `x` from a zero-padded copy of the columns it reads.
        func staged(_ x: Int, _ pixels: Int) {
            let lo = 2 * x - pad
            let n = 2 * pixels + 1
            let a = min(n, max(0, -lo))
            let b = max(a, min(n, width - lo))
            for c in 0..<channels {
                for ky in ky0..<ky1 {
                    let d = staging + (c * 3 + ky) * stagedRow
                    let s = input + c * cs + (top + ky) * width + lo
                    var j = 0
                    while j < a {
                        d[j] = 0
                        j += 1
                    }
                    while j + 16 <= b {
                        UnsafeMutableRawPointer(d + j).storeBytes(of: load16(s + j), as: SIMD16<Float>.self)
                        j += 16
                    }
                    while j < b {
                        d[j] = s[j]
                        j += 1
                    }
                    while j < n {
                        d[j] = 0
                        j += 1
                    }
                }
            }
            if pixels == 32 {
                step32(staging, 3 * stagedRow, stagedRow, 0, ky0, ky1, channels, w, count, bias, mode, o + x, plane)
            } else {
                step16(staging, 3 * stagedRow, stagedRow, 0, ky0, ky1, channels, w, count, bias, mode, o + x, plane)
            }
        }
        var x = 0
        while x < ow {
            if x + 32 <= ow {
                if fits(x, 32) {
                    step32(input + 2 * x - pad, cs, width, top, ky0, ky1, channels, w, count, bias, mode, o + x, plane)
                } else {
                    staged(x, 32)
                }
                x += 32
                continue
            }
            let at = min(x, ow - 16)
            if fits(at, 16) {
                step16(input + 2 * at - pad, cs, width, top, ky0, ky1, channels, w, count, bias, mode, o + at, plane)
            } else {
                staged(at, 16)
            }
            x = at + 16
        }
    }

    /// 32 output pixels at `o` (`plane` floats between filters) of the `count` (≤ 8) filters,
    /// tap row `ky` of channel `c` at `base + c·cs + (rowBase + ky)·rs` (its first tap column);
    /// rows outside `ky0 ..< ky1` skipped.
    @inline(__always)
    private static func step32(
        _ base: UnsafePointer<Float>, _ cs: Int, _ rs: Int, _ rowBase: Int, _ ky0: Int, _ ky1: Int,
        _ channels: Int, _ w: UnsafePointer<Float>, _ count: Int, _ bias: UnsafePointer<Float>, _ mode: Int,
        _ o: UnsafeMutablePointer<Float>, _ plane: Int
    ) {
        @inline(__always) func start(_ l: Int) -> SIMD16<Float> { SIMD16(repeating: l < count ? bias[l] : 0) }
        var a0 = start(0)
        var a1 = start(1)
        var a2 = start(2)
        var a3 = start(3)
        var a4 = start(4)
        var a5 = start(5)
        var a6 = start(6)
        var a7 = start(7)
        var b0 = a0
        var b1 = a1
        var b2 = a2
        var b3 = a3
        var b4 = a4
        var b5 = a5
        var b6 = a6
        var b7 = a7
        for c in 0..<channels {
            for ky in ky0..<ky1 {
                let r = base + c * cs + (rowBase + ky) * rs
                var wp = w + (c * 3 + ky) * 24
                let e0 = SIMD32<Float>(lowHalf: load16(r), highHalf: load16(r + 16))
                let o0 = SIMD32<Float>(lowHalf: load16(r + 1), highHalf: load16(r + 17))
                let u = (e0.evenHalf, e0.oddHalf, o0.oddHalf)
                let e1 = SIMD32<Float>(lowHalf: load16(r + 32), highHalf: load16(r + 48))
                let o1 = SIMD32<Float>(lowHalf: load16(r + 33), highHalf: load16(r + 49))
                let v = (e1.evenHalf, e1.oddHalf, o1.oddHalf)
                for kx in 0..<3 {
                    let p = kx == 0 ? u.0 : kx == 1 ? u.1 : u.2
                    let q = kx == 0 ? v.0 : kx == 1 ? v.1 : v.2
                    let t0 = SIMD16<Float>(repeating: wp[0])
                    a0 = a0.addingProduct(p, t0)
                    b0 = b0.addingProduct(q, t0)
                    let t1 = SIMD16<Float>(repeating: wp[1])
                    a1 = a1.addingProduct(p, t1)
                    b1 = b1.addingProduct(q, t1)
                    let t2 = SIMD16<Float>(repeating: wp[2])
                    a2 = a2.addingProduct(p, t2)
                    b2 = b2.addingProduct(q, t2)
                    let t3 = SIMD16<Float>(repeating: wp[3])
                    a3 = a3.addingProduct(p, t3)
                    b3 = b3.addingProduct(q, t3)
                    let t4 = SIMD16<Float>(repeating: wp[4])
                    a4 = a4.addingProduct(p, t4)
                    b4 = b4.addingProduct(q, t4)
                    let t5 = SIMD16<Float>(repeating: wp[5])
                    a5 = a5.addingProduct(p, t5)
                    b5 = b5.addingProduct(q, t5)
                    let t6 = SIMD16<Float>(repeating: wp[6])
                    a6 = a6.addingProduct(p, t6)
                    b6 = b6.addingProduct(q, t6)
                    let t7 = SIMD16<Float>(repeating: wp[7])
                    a7 = a7.addingProduct(p, t7)
                    b7 = b7.addingProduct(q, t7)
                    wp += 8
                }
            }
        }
        store(a0, o, mode)
        store(b0, o + 16, mode)
        if count > 1 {
            store(a1, o + 1 * plane, mode)
            store(b1, o + 1 * plane + 16, mode)
        }
        if count > 2 {
            store(a2, o + 2 * plane, mode)
            store(b2, o + 2 * plane + 16, mode)
        }
        if count > 3 {
            store(a3, o + 3 * plane, mode)
            store(b3, o + 3 * plane + 16, mode)
        }
        if count > 4 {
            store(a4, o + 4 * plane, mode)
            store(b4, o + 4 * plane + 16, mode)
        }
        if count > 5 {
            store(a5, o + 5 * plane, mode)
            store(b5, o + 5 * plane + 16, mode)
        }
        if count > 6 {
            store(a6, o + 6 * plane, mode)
            store(b6, o + 6 * plane + 16, mode)
        }
        if count > 7 {
            store(a7, o + 7 * plane, mode)
            store(b7, o + 7 * plane + 16, mode)
        }
    }

    /// 16 output pixels at `o` (`plane` floats between filters) of the `count` (≤ 8) filters,
    /// tap row `ky` of channel `c` at `base + c·cs + (rowBase + ky)·rs` (its first tap column);
    /// rows outside `ky0 ..< ky1` skipped.
    @inline(__always)
    private static func step16(
        _ base: UnsafePointer<Float>, _ cs: Int, _ rs: Int, _ rowBase: Int, _ ky0: Int, _ ky1: Int,
        _ channels: Int, _ w: UnsafePointer<Float>, _ count: Int, _ bias: UnsafePointer<Float>, _ mode: Int,
        _ o: UnsafeMutablePointer<Float>, _ plane: Int
    ) {
        @inline(__always) func start(_ l: Int) -> SIMD16<Float> { SIMD16(repeating: l < count ? bias[l] : 0) }
        var a0 = start(0)
        var a1 = start(1)
        var a2 = start(2)
        var a3 = start(3)
        var a4 = start(4)
        var a5 = start(5)
        var a6 = start(6)
        var a7 = start(7)
        for c in 0..<channels {
            for ky in ky0..<ky1 {
                let r = base + c * cs + (rowBase + ky) * rs
                var wp = w + (c * 3 + ky) * 24
                let e0 = SIMD32<Float>(lowHalf: load16(r), highHalf: load16(r + 16))
                let o0 = SIMD32<Float>(lowHalf: load16(r + 1), highHalf: load16(r + 17))
                let u = (e0.evenHalf, e0.oddHalf, o0.oddHalf)
                for kx in 0..<3 {
                    let p = kx == 0 ? u.0 : kx == 1 ? u.1 : u.2
                    let t0 = SIMD16<Float>(repeating: wp[0])
                    a0 = a0.addingProduct(p, t0)
                    let t1 = SIMD16<Float>(repeating: wp[1])
                    a1 = a1.addingProduct(p, t1)
                    let t2 = SIMD16<Float>(repeating: wp[2])
                    a2 = a2.addingProduct(p, t2)
                    let t3 = SIMD16<Float>(repeating: wp[3])
                    a3 = a3.addingProduct(p, t3)
                    let t4 = SIMD16<Float>(repeating: wp[4])
                    a4 = a4.addingProduct(p, t4)
                    let t5 = SIMD16<Float>(repeating: wp[5])
                    a5 = a5.addingProduct(p, t5)
                    let t6 = SIMD16<Float>(repeating: wp[6])
                    a6 = a6.addingProduct(p, t6)
                    let t7 = SIMD16<Float>(repeating: wp[7])
                    a7 = a7.addingProduct(p, t7)
                    wp += 8
                }
            }
        }
        store(a0, o, mode)
        if count > 1 { store(a1, o + 1 * plane, mode) }
        if count > 2 { store(a2, o + 2 * plane, mode) }
        if count > 3 { store(a3, o + 3 * plane, mode) }
        if count > 4 { store(a4, o + 4 * plane, mode) }
        if count > 5 { store(a5, o + 5 * plane, mode) }
        if count > 6 { store(a6, o + 6 * plane, mode) }
        if count > 7 { store(a7, o + 7 * plane, mode) }
    }

    @inline(__always)
    private static func store(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>, _ mode: Int) {
        let r: SIMD16<Float>
        switch mode {
        case 1: r = v.replacing(with: v * SIMD16(repeating: 0.1), where: v .<= 0)
        case 2: r = v.replacing(with: SIMD16(repeating: 0), where: v .<= 0)
        default: r = v
        }
        UnsafeMutableRawPointer(p).storeBytes(of: r, as: SIMD16<Float>.self)
    }
}

/// AVX-512 register block of `StridedConvolution` (call only when `mscr_cpu_has_avx512()` says
/// so): 48 output pixels (three zmm) × one group of eight filters, 24 accumulators. Each tap costs
/// three vector loads and eight weight broadcasts for 24 FMAs, where `DirectRow512` spends one
/// load and eight broadcasts on 8.
///
/// Pixels are numbered over the output with rows `half` apart (`half` = output width + 1, one
/// pad column a row): the input, split into four phase planes by row and column parity, then
/// holds tap `(ky, kx)` of pixel `p` at `p + (ky / 2)·half + kx / 2` of phase
/// `(ky mod 2, kx mod 2)`, so a block runs across row ends with plain loads.
package enum StridedBlock512 {
    /// Pixels per block.
    package static let pixels = 48

    /// Pixels `p0 ..< p0 + 48` of the `count` (≤ 8) filters whose packed weights
    /// (`[channel][ky][kx][8]`) start at `weights`: those inside the `outHeight × outWidth`
    /// output, activated, go to `output` (the filters' first output plane, planes `outPlane`
    /// apart). Tap `t`
    /// (`channel·9 + ky·3 + kx`, `t < taps`) of pixel `p` is `planes[offsets[t] + p]`. `mode`: 1
    /// leaky (0.1), 2 relu, 3 swish, anything else linear.
    package static func block(
        p0: Int, count: Int, taps: Int, offsets: UnsafePointer<Int>, planes: UnsafePointer<Float>,
        half: Int, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, mode: Int,
        output: UnsafeMutablePointer<Float>, outPlane plane: Int, outHeight oh: Int, outWidth ow: Int
    ) {
        var a = Accumulators(bias: bias, count: count)
        let src = planes + p0
        // One tap per iteration, its input offset from the table: unrolled over the nine taps of
        // a channel, LLVM hoists all 27 loads and spills the accumulators.
        for t in 0..<taps { a.tap(src + offsets[t], weights + 8 * t) }
        for j in 0..<3 {
            let p = p0 + 16 * j
            let y = p / half
            if y >= oh { break }
            let x = p - y * half
            let o = output + y * ow + x
            let whole = x + 16 <= ow
            for l in 0..<count {
                let v = activate(a.lane(j, l), mode)
                if whole {
                    UnsafeMutableRawPointer(o + l * plane).storeBytes(of: v, as: SIMD16<Float>.self)
                } else {
                    scatter(v, y: y, x: x, output + l * plane, half: half, oh: oh, ow: ow)
                }
            }
        }
    }

    /// Stores the lanes of `v` (pixels from `(y, x)` on) that fall inside the output.
    private static func scatter(
        _ v: SIMD16<Float>, y: Int, x: Int, _ out: UnsafeMutablePointer<Float>, half: Int, oh: Int, ow: Int
    ) {
        var i = 0
        var y = y
        var x = x
        while i < 16, y < oh {
            let n = min(16 - i, half - x)
            let valid = min(n, ow - x)
            for k in 0..<max(0, valid) { out[y * ow + x + k] = v[i + k] }
            i += n
            y += 1
            x = 0
        }
    }

    @inline(__always)
    private static func activate(_ v: SIMD16<Float>, _ mode: Int) -> SIMD16<Float> {
        switch mode {
        case 1: return v.replacing(with: v * SIMD16(repeating: 0.1), where: v .<= 0)
        case 2: return v.replacing(with: SIMD16(repeating: 0), where: v .<= 0)
        case 3: return Swish512.swish(v)
        default: return v
        }
    }

    /// Three pixel vectors × eight filters.
    private struct Accumulators {
        var a0, a1, a2, a3, a4, a5, a6, a7: SIMD16<Float>
        var b0, b1, b2, b3, b4, b5, b6, b7: SIMD16<Float>
        var c0, c1, c2, c3, c4, c5, c6, c7: SIMD16<Float>

        @inline(__always)
        init(bias: UnsafePointer<Float>, count: Int) {
            @inline(__always) func start(_ l: Int) -> SIMD16<Float> { SIMD16(repeating: l < count ? bias[l] : 0) }
            a0 = start(0)
            a1 = start(1)
            a2 = start(2)
            a3 = start(3)
            a4 = start(4)
            a5 = start(5)
            a6 = start(6)
            a7 = start(7)
            (b0, b1, b2, b3, b4, b5, b6, b7) = (a0, a1, a2, a3, a4, a5, a6, a7)
            (c0, c1, c2, c3, c4, c5, c6, c7) = (a0, a1, a2, a3, a4, a5, a6, a7)
        }

        @inline(__always)
        mutating func tap(_ p: UnsafePointer<Float>, _ w: UnsafePointer<Float>) {
            let raw = UnsafeRawPointer(p)
            let u = raw.loadUnaligned(as: SIMD16<Float>.self)
            let v = raw.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
            let t = raw.loadUnaligned(fromByteOffset: 128, as: SIMD16<Float>.self)
            var s = SIMD16<Float>(repeating: w[0])
            a0 = a0.addingProduct(u, s)
            b0 = b0.addingProduct(v, s)
            c0 = c0.addingProduct(t, s)
            s = SIMD16(repeating: w[1])
            a1 = a1.addingProduct(u, s)
            b1 = b1.addingProduct(v, s)
            c1 = c1.addingProduct(t, s)
            s = SIMD16(repeating: w[2])
            a2 = a2.addingProduct(u, s)
            b2 = b2.addingProduct(v, s)
            c2 = c2.addingProduct(t, s)
            s = SIMD16(repeating: w[3])
            a3 = a3.addingProduct(u, s)
            b3 = b3.addingProduct(v, s)
            c3 = c3.addingProduct(t, s)
            s = SIMD16(repeating: w[4])
            a4 = a4.addingProduct(u, s)
            b4 = b4.addingProduct(v, s)
            c4 = c4.addingProduct(t, s)
            s = SIMD16(repeating: w[5])
            a5 = a5.addingProduct(u, s)
            b5 = b5.addingProduct(v, s)
            c5 = c5.addingProduct(t, s)
            s = SIMD16(repeating: w[6])
            a6 = a6.addingProduct(u, s)
            b6 = b6.addingProduct(v, s)
            c6 = c6.addingProduct(t, s)
            s = SIMD16(repeating: w[7])
            a7 = a7.addingProduct(u, s)
            b7 = b7.addingProduct(v, s)
            c7 = c7.addingProduct(t, s)
        }

        /// Pixel vector `j` of filter `l`.
        @inline(__always)
        func lane(_ j: Int, _ l: Int) -> SIMD16<Float> {
            switch (j, l) {
            case (0, 0): a0
            case (0, 1): a1
            case (0, 2): a2
            case (0, 3): a3
            case (0, 4): a4
            case (0, 5): a5
            case (0, 6): a6
            case (0, 7): a7
            case (1, 0): b0
            case (1, 1): b1
            case (1, 2): b2
            case (1, 3): b3
            case (1, 4): b4
            case (1, 5): b5
            case (1, 6): b6
            case (1, 7): b7
            case (2, 0): c0
            case (2, 1): c1
            case (2, 2): c2
            case (2, 3): c3
            case (2, 4): c4
            case (2, 5): c5
            case (2, 6): c6
            default: c7
            }
        }
    }
}

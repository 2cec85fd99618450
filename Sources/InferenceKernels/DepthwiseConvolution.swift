/// Direct depthwise convolution (one filter per channel), vectorised over output columns with
/// `SIMD8<Float>`, with the per-channel bias fused in. The channels are split into `slots` parts,
/// each with its own padded plane in the workspace, run over the inference threads.
package enum DepthwiseConvolution {
    /// Parts the channels are split into (each needs one padded plane of workspace).
    package static let slots = 4

    /// Floats of workspace `run` needs: one zero-padded input plane per slot.
    package static func workspaceSize(kernel: Int, stride: Int, outHeight: Int, outWidth: Int) -> Int {
        slots * planeSize(kernel: kernel, stride: stride, outHeight: outHeight, outWidth: outWidth)
    }

    /// Floats of one zero-padded input plane.
    private static func planeSize(kernel: Int, stride: Int, outHeight: Int, outWidth: Int) -> Int {
        PaddedPlane.size(kernel: kernel, stride: stride, outHeight: outHeight, outWidth: outWidth)
    }

    /// `output[c, y, x] = bias[c] + Σ weights[c, ky, kx] · input[c, y·s − pad + ky, x·s − pad + kx]`
    /// for `input [channels × height × width]`, `weights [channels × kernel × kernel]`,
    /// `output [channels × outHeight × outWidth]`. `workspace` holds `workspaceSize(...)` floats.
    package static func run(
        input: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
        weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        kernel: Int, stride: Int, pad: Int,
        output: UnsafeMutablePointer<Float>, outHeight: Int, outWidth: Int,
        workspace: UnsafeMutablePointer<Float>
    ) {
        let ph = PaddedPlane.height(kernel: kernel, stride: stride, outHeight: outHeight)
        let pw = PaddedPlane.width(kernel: kernel, stride: stride, outWidth: outWidth)
        let kk = kernel * kernel
        let planeFloats = planeSize(kernel: kernel, stride: stride, outHeight: outHeight, outWidth: outWidth)
        let parts = min(slots, max(1, channels))
        // Part s uses workspace plane s: the ranges `forEach` hands out are disjoint.
        Parallel.forEach(parts, cost: (channels + parts - 1) / parts * ph * pw * (kk + 1)) { range in
            for s in range {
                let padded = workspace + s * planeFloats
                // Zeroed once per layer: every channel's copy writes the same interior positions,
                // so the border stays zero from one channel to the next.
                padded.initialize(repeating: 0, count: planeFloats)
                for c in (channels * s / parts)..<(channels * (s + 1) / parts) {
                    let src = input + c * height * width
                    let w = weights + c * kk
                    let b = bias?[c] ?? 0
                    let out = output + c * outHeight * outWidth
                    if stride == 2 {
                        // Even and odd padded columns in two planes, so stride-2 taps are contiguous loads.
                        let half = (pw + 1) / 2
                        PaddedPlane.copySplit(
                            src, height: height, width: width, pad: pad, into: padded, paddedHeight: ph, half: half)
                        switch kernel {
                        case 3: channelStride2(padded, half, ph, w, 3, b, out, outHeight, outWidth)
                        case 5: channelStride2(padded, half, ph, w, 5, b, out, outHeight, outWidth)
                        default: channelStride2(padded, half, ph, w, kernel, b, out, outHeight, outWidth)
                        }
                        continue
                    }
                    PaddedPlane.copy(
                        src, height: height, width: width, pad: pad, into: padded, paddedHeight: ph, paddedWidth: pw)
                    switch (kernel, stride) {
                    case (3, 1): channel3x3(padded, pw, w, b, out, outHeight, outWidth)
                    case (5, 1): channel(padded, pw, w, 5, b, out, outHeight, outWidth)
                    case (_, 1): channel(padded, pw, w, kernel, b, out, outHeight, outWidth)
                    default: channelGeneric(padded, pw, w, kernel, stride, b, out, outHeight, outWidth)
                    }
                }
            }
        }
    }

    /// One channel at stride 2 from split planes: tap `kx` of output column `x` is padded column
    /// `2x + kx`, i.e. `even[x + kx/2]` or `odd[x + (kx − 1)/2]`. Four output rows at a time.
    @inline(__always)
    private static func channelStride2(
        _ planes: UnsafeMutablePointer<Float>, _ half: Int, _ ph: Int, _ w: UnsafePointer<Float>, _ k: Int,
        _ b: Float, _ out: UnsafeMutablePointer<Float>, _ oh: Int, _ ow: Int
    ) {
        let vb = SIMD8<Float>(repeating: b)
        let odd = planes + ph * half
        let rowStep = 2 * half
        var y = 0
        while y < oh {
            let rowsHere = min(4, oh - y)
            var x = 0
            while x < ow {
                var a0 = vb
                var a1 = vb
                var a2 = vb
                var a3 = vb
                for ky in 0..<k {
                    let base = (2 * y + ky) * half + x
                    for kx in 0..<k {
                        let p = (kx & 1 == 0 ? planes : odd) + base + (kx >> 1)
                        let wv = SIMD8<Float>(repeating: w[ky * k + kx])
                        a0 = a0.addingProduct(SIMD8Memory.load(p), wv)
                        if rowsHere == 4 {
                            a1 = a1.addingProduct(SIMD8Memory.load(p + rowStep), wv)
                            a2 = a2.addingProduct(SIMD8Memory.load(p + 2 * rowStep), wv)
                            a3 = a3.addingProduct(SIMD8Memory.load(p + 3 * rowStep), wv)
                        }
                    }
                }
                let n = min(8, ow - x)
                let o = out + y * ow + x
                SIMD8Memory.store(a0, o, count: n)
                if rowsHere == 4 {
                    SIMD8Memory.store(a1, o + ow, count: n)
                    SIMD8Memory.store(a2, o + 2 * ow, count: n)
                    SIMD8Memory.store(a3, o + 3 * ow, count: n)
                }
                x += 8
            }
            y += rowsHere == 4 ? 4 : 1
        }
    }

    /// One channel, 3×3 at stride 1: a block of four output rows × sixteen columns in eight
    /// accumulators. Each of the six input rows the block needs is loaded once (three shifted
    /// vectors per eight columns) and feeds every output row it belongs to: 36 vector loads for
    /// 72 FMAs, where tap-by-tap code loads 72 and leaves reuse to the optimiser.
    private static func channel3x3(
        _ src: UnsafeMutablePointer<Float>, _ pw: Int, _ w: UnsafePointer<Float>, _ b: Float,
        _ out: UnsafeMutablePointer<Float>, _ oh: Int, _ ow: Int
    ) {
        let vb = SIMD8<Float>(repeating: b)
        let w0 = SIMD8<Float>(repeating: w[0])
        let w1 = SIMD8<Float>(repeating: w[1])
        let w2 = SIMD8<Float>(repeating: w[2])
        let w3 = SIMD8<Float>(repeating: w[3])
        let w4 = SIMD8<Float>(repeating: w[4])
        let w5 = SIMD8<Float>(repeating: w[5])
        let w6 = SIMD8<Float>(repeating: w[6])
        let w7 = SIMD8<Float>(repeating: w[7])
        let w8 = SIMD8<Float>(repeating: w[8])
        var y = 0
        while y + 4 <= oh {
            var x = 0
            while x < ow {
                // Columns x ..< x + 16; the second vector is stored only where it lies in the row
                // (the padded plane is wide enough to load it regardless).
                var a0 = vb
                var a1 = vb
                var a2 = vb
                var a3 = vb
                var c0 = vb
                var c1 = vb
                var c2 = vb
                var c3 = vb
                var row = src + y * pw + x
                // Input row y + i feeds output row y + r through filter row i − r.
                for i in 0..<6 {
                    let l0 = SIMD8Memory.load(row)
                    let l1 = SIMD8Memory.load(row + 1)
                    let l2 = SIMD8Memory.load(row + 2)
                    let h0 = SIMD8Memory.load(row + 8)
                    let h1 = SIMD8Memory.load(row + 9)
                    let h2 = SIMD8Memory.load(row + 10)
                    if i <= 2 {  // output row 0, filter row i
                        let (u0, u1, u2) = i == 0 ? (w0, w1, w2) : i == 1 ? (w3, w4, w5) : (w6, w7, w8)
                        a0 = a0.addingProduct(l0, u0).addingProduct(l1, u1).addingProduct(l2, u2)
                        c0 = c0.addingProduct(h0, u0).addingProduct(h1, u1).addingProduct(h2, u2)
                    }
                    if i >= 1, i <= 3 {  // output row 1, filter row i − 1
                        let (u0, u1, u2) = i == 1 ? (w0, w1, w2) : i == 2 ? (w3, w4, w5) : (w6, w7, w8)
                        a1 = a1.addingProduct(l0, u0).addingProduct(l1, u1).addingProduct(l2, u2)
                        c1 = c1.addingProduct(h0, u0).addingProduct(h1, u1).addingProduct(h2, u2)
                    }
                    if i >= 2, i <= 4 {  // output row 2, filter row i − 2
                        let (u0, u1, u2) = i == 2 ? (w0, w1, w2) : i == 3 ? (w3, w4, w5) : (w6, w7, w8)
                        a2 = a2.addingProduct(l0, u0).addingProduct(l1, u1).addingProduct(l2, u2)
                        c2 = c2.addingProduct(h0, u0).addingProduct(h1, u1).addingProduct(h2, u2)
                    }
                    if i >= 3 {  // output row 3, filter row i − 3
                        let (u0, u1, u2) = i == 3 ? (w0, w1, w2) : i == 4 ? (w3, w4, w5) : (w6, w7, w8)
                        a3 = a3.addingProduct(l0, u0).addingProduct(l1, u1).addingProduct(l2, u2)
                        c3 = c3.addingProduct(h0, u0).addingProduct(h1, u1).addingProduct(h2, u2)
                    }
                    row += pw
                }
                let o = out + y * ow + x
                let n = min(8, ow - x)
                SIMD8Memory.store(a0, o, count: n)
                SIMD8Memory.store(a1, o + ow, count: n)
                SIMD8Memory.store(a2, o + 2 * ow, count: n)
                SIMD8Memory.store(a3, o + 3 * ow, count: n)
                if x + 8 < ow {
                    let m = min(8, ow - x - 8)
                    SIMD8Memory.store(c0, o + 8, count: m)
                    SIMD8Memory.store(c1, o + ow + 8, count: m)
                    SIMD8Memory.store(c2, o + 2 * ow + 8, count: m)
                    SIMD8Memory.store(c3, o + 3 * ow + 8, count: m)
                }
                x += 16
            }
            y += 4
        }
        rows(src, pw, w, 3, b, out, from: y, oh, ow)
    }

    /// One channel, stride 1: four output rows at a time (four independent FMA chains),
    /// eight columns per vector. Inlined with constant `k` so the tap loops unroll.
    @inline(__always)
    private static func channel(
        _ src: UnsafeMutablePointer<Float>, _ pw: Int, _ w: UnsafePointer<Float>, _ k: Int, _ b: Float,
        _ out: UnsafeMutablePointer<Float>, _ oh: Int, _ ow: Int
    ) {
        let vb = SIMD8<Float>(repeating: b)
        var y = 0
        while y + 4 <= oh {
            var x = 0
            while x < ow {
                var a0 = vb
                var a1 = vb
                var a2 = vb
                var a3 = vb
                for ky in 0..<k {
                    let r0 = src + (y + ky) * pw + x
                    for kx in 0..<k {
                        let wv = SIMD8<Float>(repeating: w[ky * k + kx])
                        a0 = a0.addingProduct(SIMD8Memory.load(r0 + kx), wv)
                        a1 = a1.addingProduct(SIMD8Memory.load(r0 + pw + kx), wv)
                        a2 = a2.addingProduct(SIMD8Memory.load(r0 + 2 * pw + kx), wv)
                        a3 = a3.addingProduct(SIMD8Memory.load(r0 + 3 * pw + kx), wv)
                    }
                }
                let n = min(8, ow - x)
                let o = out + y * ow + x
                SIMD8Memory.store(a0, o, count: n)
                SIMD8Memory.store(a1, o + ow, count: n)
                SIMD8Memory.store(a2, o + 2 * ow, count: n)
                SIMD8Memory.store(a3, o + 3 * ow, count: n)
                x += 8
            }
            y += 4
        }
        rows(src, pw, w, k, b, out, from: y, oh, ow)
    }

    /// Output rows `y0 ..< oh` of one channel at stride 1, one at a time: what the four-row
    /// blocks of `channel` and `channel3x3` leave.
    @inline(__always)
    private static func rows(
        _ src: UnsafeMutablePointer<Float>, _ pw: Int, _ w: UnsafePointer<Float>, _ k: Int, _ b: Float,
        _ out: UnsafeMutablePointer<Float>, from y0: Int, _ oh: Int, _ ow: Int
    ) {
        for y in y0..<oh {
            var x = 0
            while x < ow {
                var a = SIMD8<Float>(repeating: b)
                for ky in 0..<k {
                    let r = src + (y + ky) * pw + x
                    for kx in 0..<k {
                        a = a.addingProduct(SIMD8Memory.load(r + kx), SIMD8<Float>(repeating: w[ky * k + kx]))
                    }
                }
                SIMD8Memory.store(a, out + y * ow + x, count: min(8, ow - x))
                x += 8
            }
        }
    }

    private static func channelGeneric(
        _ src: UnsafeMutablePointer<Float>, _ pw: Int, _ w: UnsafePointer<Float>, _ k: Int, _ s: Int,
        _ b: Float, _ out: UnsafeMutablePointer<Float>, _ oh: Int, _ ow: Int
    ) {
        for y in 0..<oh {
            for x in 0..<ow {
                var acc = b
                for ky in 0..<k {
                    let row = src + (y * s + ky) * pw + x * s
                    for kx in 0..<k { acc += w[ky * k + kx] * row[kx] }
                }
                out[y * ow + x] = acc
            }
        }
    }
}

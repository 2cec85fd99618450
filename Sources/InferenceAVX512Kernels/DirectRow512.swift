/// AVX-512 inner loop of `DirectConvolution` (call only when `mscr_cpu_has_avx512()` says so):
/// thirty-two adjacent output pixels of one tap in two zmm, times each of a group's eight filter
/// weights (broadcast), into sixteen accumulators: 32 outputs × 8 filters per step, then one
/// vector of sixteen where fewer than 32 remain. (Sixteen accumulators hide the FMA latency
/// that eight did not: yolov8n's 16→32 stride-2 layer @320, 1 thread, CPU time, kernel alone,
/// 2.0–2.3 ms against 2.7–3.1 with 16-pixel steps, loaded box.) The same planes and regrouped weights
/// (`[group][channel][ky][kx][8]`) as the AVX2 loop, which finishes the row past the last whole
/// vector of sixteen.
package enum DirectRow512 {
    /// Output pixels `0 ..< 16·⌊ow / 16⌋` of row `y` of the `count` (≤ 8) filters of one group,
    /// `out` that group's first output plane. `mode`: 1 applies leaky (0.1), 2 relu, anything
    /// else stores the sum (the caller activates the row). Returns the first pixel not done.
    package static func row(
        stride s: Int, y: Int, count: Int, planes: UnsafePointer<Float>, planeFloats: Int, rowFloats: Int,
        paddedHeight ph: Int, channels: Int, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, mode: Int,
        output: UnsafeMutablePointer<Float>, outHeight oh: Int, outWidth ow: Int
    ) -> Int {
        if s == 2 {
            return body(2, y, count, planes, planeFloats, rowFloats, ph, channels, weights, bias, mode, output, oh, ow)
        }
        return body(1, y, count, planes, planeFloats, rowFloats, ph, channels, weights, bias, mode, output, oh, ow)
    }

    @inline(__always)
    private static func body(
        _ s: Int, _ y: Int, _ count: Int, _ planes: UnsafePointer<Float>, _ planeFloats: Int, _ rowFloats: Int,
        _ ph: Int, _ channels: Int, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>, _ mode: Int,
        _ out: UnsafeMutablePointer<Float>, _ oh: Int, _ ow: Int
    ) -> Int {
        @inline(__always) func start(_ l: Int) -> SIMD16<Float> { SIMD16(repeating: l < count ? bias[l] : 0) }
        var x = 0
        while x + 32 <= ow {
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
            var wp = w
            for c in 0..<channels {
                let plane = planes + c * planeFloats
                for ky in 0..<3 {
                    let r = plane + (y * s + ky) * rowFloats + x
                    for kx in 0..<3 {
                        let p = s == 1 ? r + kx : (kx == 1 ? r + ph * rowFloats : r + kx / 2)
                        let u = UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
                        let v = UnsafeRawPointer(p + 16).loadUnaligned(as: SIMD16<Float>.self)
                        var t = SIMD16<Float>(repeating: wp[0])
                        a0 = a0.addingProduct(u, t)
                        b0 = b0.addingProduct(v, t)
                        t = SIMD16<Float>(repeating: wp[1])
                        a1 = a1.addingProduct(u, t)
                        b1 = b1.addingProduct(v, t)
                        t = SIMD16<Float>(repeating: wp[2])
                        a2 = a2.addingProduct(u, t)
                        b2 = b2.addingProduct(v, t)
                        t = SIMD16<Float>(repeating: wp[3])
                        a3 = a3.addingProduct(u, t)
                        b3 = b3.addingProduct(v, t)
                        t = SIMD16<Float>(repeating: wp[4])
                        a4 = a4.addingProduct(u, t)
                        b4 = b4.addingProduct(v, t)
                        t = SIMD16<Float>(repeating: wp[5])
                        a5 = a5.addingProduct(u, t)
                        b5 = b5.addingProduct(v, t)
                        t = SIMD16<Float>(repeating: wp[6])
                        a6 = a6.addingProduct(u, t)
                        b6 = b6.addingProduct(v, t)
                        t = SIMD16<Float>(repeating: wp[7])
                        a7 = a7.addingProduct(u, t)
                        b7 = b7.addingProduct(v, t)
                        wp += 8
                    }
                }
            }
            let o = out + y * ow + x
            let plane = oh * ow
            store(a0, o, mode)
            store(b0, o + 16, mode)
            if count > 1 {
                store(a1, o + plane, mode)
                store(b1, o + plane + 16, mode)
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
            x += 32
        }
        while x + 16 <= ow {
            var a0 = start(0)
            var a1 = start(1)
            var a2 = start(2)
            var a3 = start(3)
            var a4 = start(4)
            var a5 = start(5)
            var a6 = start(6)
            var a7 = start(7)
            var wp = w
            for c in 0..<channels {
                let plane = planes + c * planeFloats
                for ky in 0..<3 {
                    let r = plane + (y * s + ky) * rowFloats + x
                    for kx in 0..<3 {
                        // Stride 2: padded column 2x + kx is even[x + kx/2] or odd[x] (kx = 1).
                        let p = s == 1 ? r + kx : (kx == 1 ? r + ph * rowFloats : r + kx / 2)
                        let v = UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
                        a0 = a0.addingProduct(v, SIMD16(repeating: wp[0]))
                        a1 = a1.addingProduct(v, SIMD16(repeating: wp[1]))
                        a2 = a2.addingProduct(v, SIMD16(repeating: wp[2]))
                        a3 = a3.addingProduct(v, SIMD16(repeating: wp[3]))
                        a4 = a4.addingProduct(v, SIMD16(repeating: wp[4]))
                        a5 = a5.addingProduct(v, SIMD16(repeating: wp[5]))
                        a6 = a6.addingProduct(v, SIMD16(repeating: wp[6]))
                        a7 = a7.addingProduct(v, SIMD16(repeating: wp[7]))
                        wp += 8
                    }
                }
            }
            let o = out + y * ow + x
            let plane = oh * ow
            store(a0, o, mode)
            if count > 1 { store(a1, o + plane, mode) }
            if count > 2 { store(a2, o + 2 * plane, mode) }
            if count > 3 { store(a3, o + 3 * plane, mode) }
            if count > 4 { store(a4, o + 4 * plane, mode) }
            if count > 5 { store(a5, o + 5 * plane, mode) }
            if count > 6 { store(a6, o + 6 * plane, mode) }
            if count > 7 { store(a7, o + 7 * plane, mode) }
            x += 16
        }
        return x
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

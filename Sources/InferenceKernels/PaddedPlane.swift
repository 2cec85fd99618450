/// Zero-padded copies of input planes for the direct kernels (depthwise and few-channel
/// convolutions): the kernels then read every tap with plain vector loads, no bounds checks.
/// At stride 2 the padded columns are split into an even and an odd plane, so that the taps of
/// eight adjacent outputs are eight adjacent floats.
package enum PaddedPlane {
    /// Floats of one padded plane (or of the two split planes at stride 2), with room for the
    /// kernels' full-vector loads past the last output.
    package static func size(kernel: Int, stride: Int, outHeight: Int, outWidth: Int) -> Int {
        height(kernel: kernel, stride: stride, outHeight: outHeight)
            * (width(kernel: kernel, stride: stride, outWidth: outWidth) + 2)
    }

    /// Rows of a padded plane: every row some output's taps read.
    package static func height(kernel: Int, stride: Int, outHeight: Int) -> Int {
        (outHeight - 1) * stride + kernel
    }

    /// Wide enough that every SIMD load of the last (partial) 8-column block stays inside.
    package static func width(kernel: Int, stride: Int, outWidth: Int) -> Int {
        let blocks = (outWidth + 7) / 8
        return blocks * 8 * stride + kernel + 8
    }

    /// Copies one plane into the middle of a `paddedHeight × paddedWidth` buffer, shifted by `pad`
    /// rows and columns. Writes only the image's positions: the caller zeroes the buffer first
    /// (once for all channels of a layer).
    package static func copy(
        _ src: UnsafePointer<Float>, height: Int, width: Int, pad: Int,
        into dst: UnsafeMutablePointer<Float>, paddedHeight ph: Int, paddedWidth pw: Int
    ) {
        let rows = min(height, ph - pad)
        let cols = min(width, pw - pad)
        guard rows > 0, cols > 0 else { return }
        for y in 0..<rows {
            (dst + (y + pad) * pw + pad).update(from: src + y * width, count: cols)
        }
    }

    /// Like `copy` (the caller zeroes first), but padded column `X` goes to column `X / 2` of
    /// the even plane (`dst`) or the odd plane (`dst + paddedHeight·half`).
    package static func copySplit(
        _ src: UnsafePointer<Float>, height: Int, width: Int, pad: Int,
        into dst: UnsafeMutablePointer<Float>, paddedHeight ph: Int, half: Int
    ) {
        let even = dst
        let odd = dst + ph * half
        let rows = min(height, ph - pad)
        guard rows > 0 else { return }
        for y in 0..<rows {
            splitRow(
                src + y * width, width: width, pad: pad, even: even + (y + pad) * half, odd: odd + (y + pad) * half,
                half: half)
        }
    }

    /// One row of `copySplit`: source column `x` goes to padded column `X = x + pad`, which is
    /// `even[X / 2]` or `odd[X / 2]`; columns past `2·half` are dropped. Writes only the image's
    /// positions.
    @inline(__always)
    package static func splitRow(
        _ s: UnsafePointer<Float>, width: Int, pad: Int, even e: UnsafeMutablePointer<Float>,
        odd o: UnsafeMutablePointer<Float>, half: Int
    ) {
        let cols = min(width, 2 * half - pad)
        // Source column x lands at padded column x + pad: for even pad, even x goes to the even
        // plane at (x + pad) / 2; for odd pad, even x goes to the odd plane.
        let evenFirst = pad & 1 == 0
        let toEven = evenFirst ? pad >> 1 : (pad + 1) >> 1  // plane offset of source column 1 or 0
        let toOdd = pad >> 1
        var x = 0
        while x + 16 <= cols {
            let v = UnsafeRawPointer(s + x).loadUnaligned(as: SIMD16<Float>.self)
            if evenFirst {
                SIMD8Memory.store(v.evenHalf, e + (x >> 1) + toEven)
                SIMD8Memory.store(v.oddHalf, o + (x >> 1) + toOdd)
            } else {
                SIMD8Memory.store(v.evenHalf, o + (x >> 1) + toOdd)
                SIMD8Memory.store(v.oddHalf, e + (x >> 1) + toEven)
            }
            x += 16
        }
        while x < cols {
            let X = x + pad
            if X & 1 == 0 { e[X >> 1] = s[x] } else { o[X >> 1] = s[x] }
            x += 1
        }
    }
}

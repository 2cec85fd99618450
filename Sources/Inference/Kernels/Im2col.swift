/// Darknet's im2col, restricted to a block of output rows so the column buffer stays small.
package enum Im2col {
    /// Unfolds `input [channels × height × width]` into
    /// `columns [(channels·kernel·kernel) × (rowCount·outWidth)]` for output rows
    /// `rowStart ..< rowStart + rowCount`: row `(c·k + ky)·k + kx`, column `(y − rowStart)·outWidth + x`
    /// holds `input[c, y·stride − pad + ky, x·stride − pad + kx]`, or 0 outside the image.
    package static func unfold(
        input: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
        kernel: Int, stride: Int, pad: Int, outWidth: Int,
        rowStart: Int, rowCount: Int,
        columns: UnsafeMutablePointer<Float>
    ) {
        let blockColumns = rowCount * outWidth
        var row = 0
        for c in 0..<channels {
            let plane = input + c * height * width
            for ky in 0..<kernel {
                for kx in 0..<kernel {
                    let dst = columns + row * blockColumns
                    row += 1
                    // Output x whose input column is inside the image: x·stride − pad + kx ∈ [0, width).
                    let lo = max(0, ceilDiv(pad - kx, stride))
                    let hi = min(outWidth, max(lo, ceilDiv(width + pad - kx, stride)))
                    for yy in 0..<rowCount {
                        let out = dst + yy * outWidth
                        let iy = (rowStart + yy) * stride - pad + ky
                        if iy < 0 || iy >= height || lo >= hi {
                            out.initialize(repeating: 0, count: outWidth)
                            continue
                        }
                        if lo > 0 { out.initialize(repeating: 0, count: lo) }
                        if hi < outWidth { (out + hi).initialize(repeating: 0, count: outWidth - hi) }
                        let src = plane + iy * width + (lo * stride - pad + kx)
                        if stride == 1 {
                            (out + lo).update(from: src, count: hi - lo)
                        } else {
                            var s = src
                            for x in lo..<hi {
                                out[x] = s.pointee
                                s += stride
                            }
                        }
                    }
                }
            }
        }
    }

    @inline(__always)
    private static func ceilDiv(_ a: Int, _ b: Int) -> Int {
        a >= 0 ? (a + b - 1) / b : -((-a) / b)
    }
}

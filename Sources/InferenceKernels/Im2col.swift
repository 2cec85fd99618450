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
                    let (lo, hi) = inside(kx: kx, stride: stride, pad: pad, width: width, outWidth: outWidth)
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

    /// Unfolds output pixels `first ..< first + count` (row-major over `outHeight × outWidth`)
    /// straight into `PanelGemm`'s B panels: pixel `first + q` is column `q % 24` of panel
    /// `q / 24` (`[K × 24]` each, `K = channels·kernel·kernel`), row `(c·k + ky)·k + kx` holding
    /// `input[c, y·stride − pad + ky, x·stride − pad + kx]`, or 0 outside the image. Columns of
    /// the last panel past `count` are left as they are.
    package static func unfoldPanels(
        input: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
        kernel: Int, stride: Int, pad: Int, outWidth: Int,
        first: Int, count: Int,
        panels: UnsafeMutablePointer<Float>
    ) {
        let rows = channels * kernel * kernel
        let panelFloats = PanelGemm.columns * rows
        if kernel == 1, stride == 1, pad == 0 {
            // The input already is B, row by row: copy it in 24-column pieces.
            let spatial = height * width
            for c in 0..<channels {
                let src = input + c * spatial + first
                let dst = panels + c * PanelGemm.columns
                var q = 0
                while q + PanelGemm.columns <= count {
                    let d = dst + (q / PanelGemm.columns) * panelFloats
                    SIMD8Memory.store(SIMD8Memory.load(src + q), d)
                    SIMD8Memory.store(SIMD8Memory.load(src + q + 8), d + 8)
                    SIMD8Memory.store(SIMD8Memory.load(src + q + 16), d + 16)
                    q += PanelGemm.columns
                }
                if q < count { (dst + (q / PanelGemm.columns) * panelFloats).update(from: src + q, count: count - q) }
            }
            return
        }
        // The part's pixels as runs within one output row and one panel; the same for every row
        // of B. At most one run per panel plus one per output row crossed.
        let capacity = count / PanelGemm.columns + count / max(1, outWidth) + 2
        withUnsafeTemporaryAllocation(of: Run.self, capacity: capacity) { buffer in
            let runs = buffer.baseAddress!
            var runCount = 0
            var q = 0
            while q < count {
                let pixel = first + q
                let x0 = pixel % outWidth
                let lane = q % PanelGemm.columns
                let length = min(outWidth - x0, count - q, PanelGemm.columns - lane)
                runs[runCount] = Run(
                    offset: (q / PanelGemm.columns) * panelFloats + lane, y: pixel / outWidth, x0: x0, length: length)
                runCount += 1
                q += length
            }
            var row = 0
            for c in 0..<channels {
                let plane = input + c * height * width
                for ky in 0..<kernel {
                    for kx in 0..<kernel {
                        let rowDst = panels + row * PanelGemm.columns
                        row += 1
                        let (lo, hi) = inside(kx: kx, stride: stride, pad: pad, width: width, outWidth: outWidth)
                        for r in 0..<runCount {
                            let run = runs[r]
                            let dst = rowDst + run.offset
                            let iy = run.y * stride - pad + ky
                            let x0 = run.x0
                            let x1 = run.x0 + run.length
                            if iy < 0 || iy >= height {
                                dst.initialize(repeating: 0, count: run.length)
                                continue
                            }
                            let src = plane + iy * width - pad + kx
                            let a = min(max(x0, lo), x1)
                            let b = max(min(x1, hi), a)
                            dst.initialize(repeating: 0, count: a - x0)
                            if stride == 1 {
                                (dst + (a - x0)).update(from: src + a, count: b - a)
                            } else {
                                var x = a
                                if stride == 2 {
                                    // Eight outputs from sixteen inputs while the sixteenth is
                                    // still in the row: the even lanes of one 16-wide load.
                                    while x + 8 <= b, 2 * x + 16 - pad + kx <= width {
                                        let v = UnsafeRawPointer(src + 2 * x).loadUnaligned(as: SIMD16<Float>.self)
                                        SIMD8Memory.store(v.evenHalf, dst + (x - x0))
                                        x += 8
                                    }
                                }
                                while x < b {
                                    dst[x - x0] = src[x * stride]
                                    x += 1
                                }
                            }
                            (dst + (b - x0)).initialize(repeating: 0, count: x1 - b)
                        }
                    }
                }
            }
        }
    }

    /// Pixels `x0 ..< x0 + length` of output row `y`, at `offset` in a row of B's panels.
    private struct Run {
        let offset: Int, y: Int, x0: Int, length: Int
    }

    /// Output columns `lo ..< hi` whose input column `x·stride − pad + kx` is inside the image
    /// (`0 ..< width`); the others read padding.
    @inline(__always)
    private static func inside(kx: Int, stride: Int, pad: Int, width: Int, outWidth: Int) -> (Int, Int) {
        let lo = max(0, ceilDiv(pad - kx, stride))
        return (lo, min(outWidth, max(lo, ceilDiv(width + pad - kx, stride))))
    }

    @inline(__always)
    private static func ceilDiv(_ a: Int, _ b: Int) -> Int {
        a >= 0 ? (a + b - 1) / b : -((-a) / b)
    }
}

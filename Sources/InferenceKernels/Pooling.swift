/// Darknet's max pooling and nearest-neighbour upsampling.
package enum Pooling {
    /// Darknet `[maxpool]`: `output[c, i, j] = max` over the `size × size` window starting at
    /// `(i·stride − padding/2, j·stride − padding/2)`; cells outside the input are ignored
    /// (Darknet uses −FLT_MAX for them).
    package static func maxPool(
        input: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
        size: Int, stride: Int, padding: Int,
        output: UnsafeMutablePointer<Float>, outHeight: Int, outWidth: Int,
        workspace: UnsafeMutablePointer<Float>? = nil
    ) {
        let offset = -padding / 2
        for c in 0..<channels {
            let plane = input + c * height * width
            let out = output + c * outHeight * outWidth
            if let workspace, size > 2 {
                // Separable: the max over a window is the max over rows of the max over columns.
                separable(plane, height, width, size, stride, offset, out, outHeight, outWidth, workspace)
                continue
            }
            for i in 0..<outHeight {
                let y0 = offset + i * stride
                let ya = max(0, y0)
                let yb = min(height, y0 + size)
                for j in 0..<outWidth {
                    let x0 = offset + j * stride
                    let xa = max(0, x0)
                    let xb = min(width, x0 + size)
                    var m = -Float.greatestFiniteMagnitude
                    if ya < yb && xa < xb {
                        for y in ya..<yb {
                            let row = plane + y * width
                            for x in xa..<xb where row[x] > m { m = row[x] }
                        }
                    }
                    out[i * outWidth + j] = m
                }
            }
        }
    }

    /// Floats of workspace `maxPool` uses for the separable path: one `height × outWidth` plane.
    package static func maxPoolWorkspace(height: Int, outWidth: Int) -> Int { height * outWidth }

    private static func separable(
        _ plane: UnsafePointer<Float>, _ height: Int, _ width: Int, _ size: Int, _ stride: Int, _ offset: Int,
        _ out: UnsafeMutablePointer<Float>, _ outHeight: Int, _ outWidth: Int, _ rows: UnsafeMutablePointer<Float>
    ) {
        // rows[y, j]: max of input row y over the window of output column j.
        for y in 0..<height {
            let src = plane + y * width
            let dst = rows + y * outWidth
            for j in 0..<outWidth {
                let x0 = offset + j * stride
                let xa = max(0, x0)
                let xb = min(width, x0 + size)
                var m = -Float.greatestFiniteMagnitude
                var x = xa
                while x < xb {
                    if src[x] > m { m = src[x] }
                    x += 1
                }
                dst[j] = m
            }
        }
        for i in 0..<outHeight {
            let y0 = offset + i * stride
            let ya = max(0, y0)
            let yb = min(height, y0 + size)
            let dst = out + i * outWidth
            dst.update(repeating: -Float.greatestFiniteMagnitude, count: outWidth)
            var y = ya
            while y < yb {
                let src = rows + y * outWidth
                for j in 0..<outWidth where src[j] > dst[j] { dst[j] = src[j] }
                y += 1
            }
        }
    }

    /// Darknet `[upsample]`: `output[c, y, x] = scale · input[c, y / stride, x / stride]`,
    /// output `[channels × (height·stride) × (width·stride)]`.
    package static func upsampleNearest(
        input: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
        stride: Int, scale: Float, output: UnsafeMutablePointer<Float>
    ) {
        let ow = width * stride
        for c in 0..<channels {
            let plane = input + c * height * width
            let out = output + c * height * stride * ow
            for y in 0..<height {
                let src = plane + y * width
                let first = out + y * stride * ow
                for x in 0..<width {
                    let v = src[x] * scale
                    for s in 0..<stride { first[x * stride + s] = v }
                }
                for r in 1..<max(1, stride) {
                    (first + r * ow).update(from: first, count: ow)
                }
            }
        }
    }
}

/// Element-wise helpers used by `[shortcut]` and `[route]`.
package enum Elementwise {
    /// `output[i] = a[i] + b[i]` for `i < count` (output may alias `a`).
    package static func add(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, count: Int
    ) {
        var i = 0
        while i + 8 <= count {
            SIMD8Memory.store(SIMD8Memory.load(a + i) + SIMD8Memory.load(b + i), output + i)
            i += 8
        }
        while i < count {
            output[i] = a[i] + b[i]
            i += 1
        }
    }

    /// Copies `count` floats.
    @inline(__always)
    package static func copy(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, count: Int) {
        dst.update(from: src, count: count)
    }
}

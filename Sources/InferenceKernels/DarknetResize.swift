/// Darknet's `resize_image`: two-pass bilinear, corner-aligned (`scale = (in − 1) / (out − 1)`),
/// horizontal pass first, the last column copying the last input column and the last row taking
/// only the `(1 − dy)` term; reading interleaved 8-bit RGB and writing planar float = byte / 255.
package enum DarknetResize {
    /// Floats of scratch `resize` needs.
    package static func scratchSize(outWidth: Int, channels: Int) -> Int { 2 * channels * outWidth }

    /// Byte → float exactly as Darknet's loader computes it: `(float)byte / 255.` (a double division).
    package static let byteToFloat: [Float] = (0..<256).map { Float(Double($0) / 255.0) }

    /// Resizes `pixels [height × width × channels]` (interleaved bytes) to `outWidth × outHeight`
    /// and writes channel `k`, row `r`, column `c` to
    /// `output[(k·planeHeight + offsetY + r)·planeWidth + offsetX + c]`.
    package static func resize(
        pixels: UnsafePointer<UInt8>, width: Int, height: Int, channels: Int,
        outWidth: Int, outHeight: Int,
        output: UnsafeMutablePointer<Float>, planeWidth: Int, planeHeight: Int, offsetX: Int, offsetY: Int,
        scratch: UnsafeMutablePointer<Float>
    ) {
        // RGB gets its own copy of the loops with the channel count a constant (the callers are
        // in another module now, so it is not propagated from there): 8 % of a resize.
        if channels == 3 {
            resize(
                pixels: pixels, width: width, height: height, fixedChannels: 3, outWidth: outWidth,
                outHeight: outHeight,
                output: output, planeWidth: planeWidth, planeHeight: planeHeight, offsetX: offsetX, offsetY: offsetY,
                scratch: scratch)
        } else {
            resize(
                pixels: pixels, width: width, height: height, fixedChannels: channels, outWidth: outWidth,
                outHeight: outHeight, output: output, planeWidth: planeWidth, planeHeight: planeHeight,
                offsetX: offsetX, offsetY: offsetY, scratch: scratch)
        }
    }

    @inline(__always)
    private static func resize(
        pixels: UnsafePointer<UInt8>, width: Int, height: Int, fixedChannels channels: Int,
        outWidth: Int, outHeight: Int,
        output: UnsafeMutablePointer<Float>, planeWidth: Int, planeHeight: Int, offsetX: Int, offsetY: Int,
        scratch: UnsafeMutablePointer<Float>
    ) {
        let ow = outWidth
        let wScale = outWidth > 1 ? Float(width - 1) / Float(outWidth - 1) : 0
        let hScale = outHeight > 1 ? Float(height - 1) / Float(outHeight - 1) : 0
        let rowFloats = channels * ow
        // Two cached horizontal-pass rows, each [channels × ow], and the input rows they hold.
        var cachedRow = (-1, -1)
        let rowA = scratch
        let rowB = scratch + rowFloats
        byteToFloat.withUnsafeBufferPointer { lut in
            func horizontal(_ r: Int, into part: UnsafeMutablePointer<Float>) {
                let src = pixels + r * width * channels
                for c in 0..<ow {
                    if c == ow - 1 || width == 1 {
                        for k in 0..<channels { part[k * ow + c] = lut[Int(src[(width - 1) * channels + k])] }
                    } else {
                        let sx = Float(c) * wScale
                        let ix = min(Int(sx), width - 1)
                        let dx = sx - Float(ix)
                        let ix1 = min(ix + 1, width - 1)
                        for k in 0..<channels {
                            let a = lut[Int(src[ix * channels + k])]
                            let b = lut[Int(src[ix1 * channels + k])]
                            part[k * ow + c] = (1 - dx) * a + dx * b
                        }
                    }
                }
            }
            // Makes the slots hold input rows `r0` and `r1` (they may be equal); returns both.
            func rows(_ r0: Int, _ r1: Int) -> (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) {
                var slot0 = cachedRow.0 == r0 ? 0 : (cachedRow.1 == r0 ? 1 : -1)
                if slot0 < 0 {
                    slot0 = cachedRow.0 == r1 ? 1 : 0
                    horizontal(r0, into: slot0 == 0 ? rowA : rowB)
                    if slot0 == 0 { cachedRow.0 = r0 } else { cachedRow.1 = r0 }
                }
                if r1 == r0 { return slot0 == 0 ? (rowA, rowA) : (rowB, rowB) }
                var slot1 = cachedRow.0 == r1 ? 0 : (cachedRow.1 == r1 ? 1 : -1)
                if slot1 < 0 {
                    slot1 = 1 - slot0
                    horizontal(r1, into: slot1 == 0 ? rowA : rowB)
                    if slot1 == 0 { cachedRow.0 = r1 } else { cachedRow.1 = r1 }
                }
                return (slot0 == 0 ? rowA : rowB, slot1 == 0 ? rowA : rowB)
            }
            for r in 0..<outHeight {
                let sy = Float(r) * hScale
                let iy = min(Int(sy), height - 1)
                let dy = sy - Float(iy)
                let last = r == outHeight - 1 || height == 1
                let (top, bottom) = rows(iy, last ? iy : min(iy + 1, height - 1))
                for k in 0..<channels {
                    let dst = output + (k * planeHeight + offsetY + r) * planeWidth + offsetX
                    let t = top + k * ow
                    let b = bottom + k * ow
                    if last {
                        for c in 0..<ow { dst[c] = (1 - dy) * t[c] }
                    } else {
                        for c in 0..<ow { dst[c] = (1 - dy) * t[c] + dy * b[c] }
                    }
                }
            }
        }
    }
}

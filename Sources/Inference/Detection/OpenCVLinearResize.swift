/// OpenCV's `cv::resize(src, dsize, interpolation: INTER_LINEAR)` on 8-bit RGB, bit for bit, as
/// Ultralytics' `LetterBox` calls it: half-pixel centres, edges clamped, 11-bit fixed-point
/// weights (`INTER_RESIZE_COEF_BITS`), the horizontal pass in integers, the vertical pass as
/// `((b0·(h0 >> 4)) >> 16 + (b1·(h1 >> 4)) >> 16 + 2) >> 2` (`VResizeLinear<uchar>`); an exact
/// halving of both sides is OpenCV's 2×2 area average `(a + b + c + d + 2) >> 2` instead.
package enum OpenCVLinearResize {
    /// `INTER_RESIZE_COEF_SCALE`.
    static let coefficientScale: Float = 2048

    /// The `(offset, weight₀, weight₁)` of each destination column or row: OpenCV's `xofs`/`alpha`
    /// (`clampBoth` true: an offset outside `0 ..< source − 1` moves to the edge with weight
    /// 2048, 0) or `yofs`/`beta` (false: offset and weights kept, rows clamped when read).
    package static func taps(source: Int, destination: Int, clampBoth: Bool) -> [(Int, Int32, Int32)] {
        let scale = 1 / (Double(destination) / Double(source))
        return (0..<destination).map { d in
            var f = Float((Double(d) + 0.5) * scale - 0.5)
            var s = Int(f.rounded(.down))
            f -= Float(s)
            if clampBoth {
                if s < 0 { (s, f) = (0, 0) }
                if s >= source - 1 { (s, f) = (source - 1, 0) }
            }
            let w0 = ((1 - f) * coefficientScale).rounded(.toNearestOrEven)
            let w1 = (f * coefficientScale).rounded(.toNearestOrEven)
            return (s, Int32(w0), Int32(w1))
        }
    }

    /// `pixels` `[height × width × 3]` resized to `[toHeight × toWidth × 3]`.
    package static func resize(
        _ pixels: UnsafeBufferPointer<UInt8>, width: Int, height: Int, toWidth: Int, toHeight: Int
    ) -> [UInt8] {
        if width == toWidth && height == toHeight { return Array(pixels) }
        if width == 2 * toWidth && height == 2 * toHeight {
            return halve(pixels, width: width, toWidth: toWidth, toHeight: toHeight)
        }
        let columns = taps(source: width, destination: toWidth, clampBoth: true)
        let rows = taps(source: height, destination: toHeight, clampBoth: false)
        let rowLength = toWidth * 3
        var out = [UInt8](repeating: 0, count: toHeight * rowLength)
        // Horizontal results of the two source rows an output row blends: `[toWidth × 3]` each.
        var upper = [Int32](repeating: 0, count: rowLength)
        var lower = [Int32](repeating: 0, count: rowLength)
        var upperRow = -1
        var lowerRow = -1
        func horizontal(_ row: Int, into buffer: inout [Int32]) {
            let base = row * width * 3
            for (dx, (sx, a0, a1)) in columns.enumerated() {
                let left = base + sx * 3
                let right = base + min(sx + 1, width - 1) * 3
                for k in 0..<3 {
                    buffer[dx * 3 + k] = Int32(pixels[left + k]) * a0 + Int32(pixels[right + k]) * a1
                }
            }
        }
        out.withUnsafeMutableBufferPointer { dst in
            for (dy, (sy, b0, b1)) in rows.enumerated() {
                let r0 = min(max(sy, 0), height - 1)
                let r1 = min(max(sy + 1, 0), height - 1)
                if r0 != upperRow {
                    if r0 == lowerRow {
                        swap(&upper, &lower)
                        (upperRow, lowerRow) = (lowerRow, -1)
                    } else {
                        horizontal(r0, into: &upper)
                        upperRow = r0
                    }
                }
                if r1 != lowerRow {
                    horizontal(r1, into: &lower)
                    lowerRow = r1
                }
                let o = dy * rowLength
                for x in 0..<rowLength {
                    let v = ((b0 &* (upper[x] >> 4)) >> 16) + ((b1 &* (lower[x] >> 4)) >> 16) + 2
                    dst[o + x] = UInt8(clamping: v >> 2)
                }
            }
        }
        return out
    }

    /// OpenCV's `resizeAreaFast` for a factor of exactly 2 on both sides.
    static func halve(_ pixels: UnsafeBufferPointer<UInt8>, width: Int, toWidth: Int, toHeight: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: toWidth * toHeight * 3)
        for y in 0..<toHeight {
            let r0 = 2 * y * width * 3
            let r1 = r0 + width * 3
            for x in 0..<toWidth {
                for k in 0..<3 {
                    let c = 2 * x * 3 + k
                    let sum =
                        Int(pixels[r0 + c]) + Int(pixels[r0 + c + 3]) + Int(pixels[r1 + c]) + Int(pixels[r1 + c + 3])
                    out[(y * toWidth + x) * 3 + k] = UInt8((sum + 2) >> 2)
                }
            }
        }
        return out
    }
}

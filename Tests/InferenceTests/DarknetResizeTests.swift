import Testing

@testable import Inference
@testable import InferenceKernels

/// Darknet's `resize_image` literally: float image, full intermediate `part`, two passes.
func naiveDarknetResize(_ image: RGBImage, _ w: Int, _ h: Int) -> [Float] {
    let iw = image.width
    let ih = image.height
    func px(_ x: Int, _ y: Int, _ k: Int) -> Float { Float(Double(image.pixels[(y * iw + x) * 3 + k]) / 255.0) }
    var part = [Float](repeating: 0, count: 3 * ih * w)
    let wScale = Float(iw - 1) / Float(w - 1)
    let hScale = Float(ih - 1) / Float(h - 1)
    for k in 0..<3 {
        for r in 0..<ih {
            for c in 0..<w {
                var val: Float
                if c == w - 1 || iw == 1 {
                    val = px(iw - 1, r, k)
                } else {
                    let sx = Float(c) * wScale
                    let ix = Int(sx)
                    let dx = sx - Float(ix)
                    val = (1 - dx) * px(ix, r, k) + dx * px(ix + 1, r, k)
                }
                part[(k * ih + r) * w + c] = val
            }
        }
    }
    var out = [Float](repeating: 0, count: 3 * h * w)
    for k in 0..<3 {
        for r in 0..<h {
            let sy = Float(r) * hScale
            let iy = Int(sy)
            let dy = sy - Float(iy)
            for c in 0..<w { out[(k * h + r) * w + c] = (1 - dy) * part[(k * ih + iy) * w + c] }
            if r == h - 1 || ih == 1 { continue }
            for c in 0..<w { out[(k * h + r) * w + c] += dy * part[(k * ih + iy + 1) * w + c] }
        }
    }
    return out
}

@Suite("Darknet resize")
struct DarknetResizeTests {
    @Test(arguments: [
        (37, 23, 16, 16), (10, 10, 32, 24), (64, 48, 64, 48), (1, 5, 8, 8), (200, 3, 20, 20), (9, 31, 12, 7),
    ])
    func matchesDarknetExactly(_ iw: Int, _ ih: Int, _ w: Int, _ h: Int) throws {
        var rng = DetTestRandom(seed: UInt64(iw * ih))
        let image = try RGBImage(
            width: iw, height: ih, pixels: (0..<(iw * ih * 3)).map { _ in UInt8.random(in: 0...255, using: &rng) })
        var out = [Float](repeating: -1, count: 3 * w * h)
        var scratch = [Float](repeating: 0, count: DarknetResize.scratchSize(outWidth: w, channels: 3))
        image.pixels.withUnsafeBufferPointer { px in
            out.withUnsafeMutableBufferPointer { o in
                scratch.withUnsafeMutableBufferPointer { s in
                    DarknetResize.resize(
                        pixels: px.baseAddress!, width: iw, height: ih, channels: 3, outWidth: w, outHeight: h,
                        output: o.baseAddress!, planeWidth: w, planeHeight: h, offsetX: 0, offsetY: 0,
                        scratch: s.baseAddress!)
                }
            }
        }
        #expect(out == naiveDarknetResize(image, w, h))
    }

    @Test func byteScaleIsDarknets() {
        #expect(DarknetResize.byteToFloat[255] == 1)
        #expect(DarknetResize.byteToFloat[128] == Float(128.0 / 255.0))
    }

    @Test func letterboxGeometryIsDarknets() {
        // A wide image fills the width; height scaled with integer division.
        #expect(
            Letterbox.scaledSize(imageWidth: 768, imageHeight: 576, networkWidth: 416, networkHeight: 416) == (416, 312)
        )
        #expect(
            Letterbox.scaledSize(imageWidth: 500, imageHeight: 1000, networkWidth: 320, networkHeight: 320) == (
                160, 320
            ))
    }
}

import Testing

@testable import Inference

/// Python 3's `round(x)`: to the nearest integer, halves to the even one (written out, not
/// with `rounded(.toNearestOrEven)`).
func pythonRound(_ x: Double) -> Int {
    let f = x.rounded(.down)
    let d = x - f
    if d > 0.5 { return Int(f) + 1 }
    if d < 0.5 { return Int(f) }
    return Int(f) % 2 == 0 ? Int(f) : Int(f) + 1
}

/// Half-pixel bilinear resize in Double with clamped edges: what OpenCV's INTER_LINEAR
/// approximates in fixed point.
func naiveLinearResize(_ px: [UInt8], _ w: Int, _ h: Int, _ ow: Int, _ oh: Int) -> [Double] {
    var out = [Double](repeating: 0, count: ow * oh * 3)
    func at(_ x: Int, _ y: Int, _ k: Int) -> Double {
        Double(px[(min(max(y, 0), h - 1) * w + min(max(x, 0), w - 1)) * 3 + k])
    }
    for y in 0..<oh {
        let fy = max(0, (Double(y) + 0.5) * Double(h) / Double(oh) - 0.5)
        let y0 = Int(fy.rounded(.down))
        let dy = fy - Double(y0)
        for x in 0..<ow {
            let fx = max(0, (Double(x) + 0.5) * Double(w) / Double(ow) - 0.5)
            let x0 = Int(fx.rounded(.down))
            let dx = fx - Double(x0)
            for k in 0..<3 {
                let top = (1 - dx) * at(x0, y0, k) + dx * at(x0 + 1, y0, k)
                let bottom = (1 - dx) * at(x0, y0 + 1, k) + dx * at(x0 + 1, y0 + 1, k)
                out[(y * ow + x) * 3 + k] = (1 - dy) * top + dy * bottom
            }
        }
    }
    return out
}

func randomPixels(_ count: Int, seed: UInt64) -> [UInt8] {
    var rng = DetTestRandom(seed: seed)
    return (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
}

@Suite("Ultralytics letterbox")
struct UltralyticsLetterboxTests {
    static let sizes: [(Int, Int)] = [
        (768, 576), (773, 512), (812, 667), (1200, 630), (641, 480), (480, 641), (640, 640), (1280, 5), (5, 1280),
        (1, 1), (3000, 2000), (333, 777), (1280, 1280), (100, 37),
    ]

    @Test(arguments: sizes)
    func geometryMatchesPythonSemantics(_ size: (Int, Int)) {
        let (w, h) = size
        for (iw, ih) in [(640, 640), (320, 320), (640, 384)] {
            let lb = UltralyticsLetterbox(imageWidth: w, imageHeight: h, inputWidth: iw, inputHeight: ih)
            let r = min(Double(ih) / Double(h), Double(iw) / Double(w))
            let nw = max(1, pythonRound(Double(w) * r))
            let nh = max(1, pythonRound(Double(h) * r))
            #expect(lb.scaledWidth == nw && lb.scaledHeight == nh)
            #expect(lb.left == pythonRound(Double(iw - nw) / 2 - 0.1))
            #expect(lb.top == pythonRound(Double(ih - nh) / 2 - 0.1))
            // Centred: the odd pixel of padding goes right / bottom.
            let right = iw - nw - lb.left
            let bottom = ih - nh - lb.top
            #expect(right - lb.left == 0 || right - lb.left == 1)
            #expect(bottom - lb.top == 0 || bottom - lb.top == 1)
            // The side that sets the ratio fills the input exactly.
            #expect(lb.scaledWidth == iw || lb.scaledHeight == ih)
        }
    }

    @Test func knownGeometry() {
        // dog.jpg: 768×576 → 640×480 with 80 rows on top; 641×480: 479 rows, 80 on top and 81 below.
        let dog = UltralyticsLetterbox(imageWidth: 768, imageHeight: 576, inputWidth: 640, inputHeight: 640)
        #expect((dog.scaledWidth, dog.scaledHeight, dog.left, dog.top) == (640, 480, 0, 80))
        let odd = UltralyticsLetterbox(imageWidth: 641, imageHeight: 480, inputWidth: 640, inputHeight: 640)
        #expect((odd.scaledWidth, odd.scaledHeight, odd.top) == (640, 479, 80))
        // 1280×5 at r = 0.5 is 2.5 rows: Python rounds the half to even, 2, not 3.
        let thin = UltralyticsLetterbox(imageWidth: 1280, imageHeight: 5, inputWidth: 640, inputHeight: 640)
        #expect((thin.scaledHeight, thin.top) == (2, 319))
    }

    @Test(arguments: [(37, 23, 64, 48), (64, 48, 37, 23), (100, 80, 50, 40), (5, 5, 13, 7), (300, 200, 299, 201)])
    func resizeIsBilinearWithinOneLevel(_ shape: (Int, Int, Int, Int)) {
        let (w, h, ow, oh) = shape
        let px = randomPixels(w * h * 3, seed: UInt64(w * 1000 + h))
        let ours = px.withUnsafeBufferPointer {
            OpenCVLinearResize.resize($0, width: w, height: h, toWidth: ow, toHeight: oh)
        }
        let reference = naiveLinearResize(px, w, h, ow, oh)
        #expect(ours.count == reference.count)
        let worst = zip(ours, reference).map { abs(Double($0) - $1) }.max() ?? 0
        #expect(worst <= 1.0, "off by \(worst)")
    }

    /// `cv2.resize(image, (ow, oh), interpolation=cv2.INTER_LINEAR)` of OpenCV 5.1.0 (the one
    /// Ultralytics 8.4 pulls) on `formulaImage`: sum and FNV-1a 64 of its bytes.
    static let openCVOutputs: [(Int, Int, Int, Int, Int, UInt64)] = [
        (768, 576, 640, 480, 117_390_805, 0xeb2c_6179_7767_8cd2),
        (773, 512, 640, 424, 103_682_447, 0xd1fc_96d1_b58d_698a),
        (37, 23, 64, 48, 1_176_929, 0x89fb_e07e_7f5c_8bdc),
        (300, 200, 299, 201, 22_946_059, 0x3341_44af_834d_8b3e),
        (64, 48, 32, 24, 294_556, 0xcd68_eec8_10d4_2c33),
        (9, 5, 640, 356, 79_750_024, 0x9e9a_120f_af17_f7fd),
    ]

    /// `(x·7 + y·13 + k·101 + (x·y) mod 31) mod 256`, HWC.
    static func formulaImage(_ w: Int, _ h: Int) -> [UInt8] {
        var px = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w {
                for k in 0..<3 { px[(y * w + x) * 3 + k] = UInt8((x * 7 + y * 13 + k * 101 + (x * y) % 31) % 256) }
            }
        }
        return px
    }

    @Test(arguments: openCVOutputs)
    func resizeIsBitExactWithOpenCV(_ row: (Int, Int, Int, Int, Int, UInt64)) {
        let (w, h, ow, oh, sum, hash) = row
        let out = Self.formulaImage(w, h).withUnsafeBufferPointer {
            OpenCVLinearResize.resize($0, width: w, height: h, toWidth: ow, toHeight: oh)
        }
        var fnv: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in out { fnv = (fnv ^ UInt64(b)) &* 0x100_0000_01b3 }
        #expect(out.reduce(0) { $0 + Int($1) } == sum)
        #expect(fnv == hash)
    }

    @Test func resizeSpecialCases() {
        let px = randomPixels(8 * 6 * 3, seed: 5)
        px.withUnsafeBufferPointer { p in
            #expect(OpenCVLinearResize.resize(p, width: 8, height: 6, toWidth: 8, toHeight: 6) == px)
            // Exactly half on both sides: OpenCV's 2×2 area average, rounded half up.
            let half = OpenCVLinearResize.resize(p, width: 8, height: 6, toWidth: 4, toHeight: 3)
            for y in 0..<3 {
                for x in 0..<4 {
                    for k in 0..<3 {
                        func at(_ xx: Int, _ yy: Int) -> Int { Int(px[(yy * 8 + xx) * 3 + k]) }
                        let sum =
                            at(2 * x, 2 * y) + at(2 * x + 1, 2 * y) + at(2 * x, 2 * y + 1) + at(2 * x + 1, 2 * y + 1)
                        #expect(Int(half[(y * 4 + x) * 3 + k]) == (sum + 2) / 4)
                    }
                }
            }
        }
        let flat = [UInt8](repeating: 77, count: 9 * 7 * 3)
        let resized = flat.withUnsafeBufferPointer {
            OpenCVLinearResize.resize($0, width: 9, height: 7, toWidth: 20, toHeight: 3)
        }
        #expect(resized.allSatisfy { $0 == 77 })
    }

    @Test func fillCentresTheImageOnGray() throws {
        let image = try RGBImage(width: 10, height: 5, pixels: [UInt8](repeating: 200, count: 150))
        let lb = UltralyticsLetterbox(imageWidth: 10, imageHeight: 5, inputWidth: 16, inputHeight: 16)
        #expect((lb.scaledWidth, lb.scaledHeight, lb.left, lb.top) == (16, 8, 0, 4))
        var input = [Float](repeating: -1, count: 3 * 256)
        input.withUnsafeMutableBufferPointer { lb.fill(image, into: $0.baseAddress!) }
        for c in 0..<3 {
            for y in 0..<16 {
                for x in 0..<16 {
                    let want: Float = (4..<12).contains(y) ? 200 / 255 : 114 / 255
                    #expect(input[c * 256 + y * 16 + x] == want)
                }
            }
        }
    }

    @Test func mapBackInvertsTheLetterboxAndClips() {
        let lb = UltralyticsLetterbox(imageWidth: 773, imageHeight: 512, inputWidth: 640, inputHeight: 640)
        let top = Float(lb.top)
        // The resized image's corners come back to the original's.
        let full = lb.mapBack(x1: 0, y1: top, x2: 640, y2: top + Float(lb.scaledHeight))
        #expect(abs(full.x1) < 1e-3 && abs(full.x2 - 773) < 1e-3)
        #expect(abs(full.y1) < 1e-3 && abs(full.y2 - 512) < 1e-3)
        let middle = lb.mapBack(x1: 320, y1: 320, x2: 330, y2: 340)
        #expect(abs(middle.x1 - 320 * 773 / 640) < 1e-3)
        #expect(abs(middle.y1 - (320 - Double(lb.top)) * 512 / Double(lb.scaledHeight)) < 1e-3)
        let outside = lb.mapBack(x1: -50, y1: -50, x2: 700, y2: 700)
        #expect(outside == PixelBox(x1: 0, y1: 0, x2: 773, y2: 512))
    }
}

import Inference

/// Draws detections onto an image: a coloured rectangle per detection and a label
/// ("dog 0.93") in a built-in 5×7 bitmap font on a filled background.
package enum BoxRenderer {
    /// A copy of `image` with every detection drawn.
    package static func draw(_ detections: [Detection], names: [String], on image: RGBImage) -> RGBImage {
        var canvas = Canvas(width: image.width, height: image.height, pixels: image.pixels)
        let thickness = max(2, min(image.width, image.height) / 200)
        let scale = max(1, min(image.width, image.height) / 300)
        // Draw the weakest first so the strongest ends on top.
        for d in detections.reversed() {
            let color = palette[d.classID % palette.count]
            let x1 = clamp(d.box.x1, image.width)
            let y1 = clamp(d.box.y1, image.height)
            let x2 = clamp(d.box.x2, image.width)
            let y2 = clamp(d.box.y2, image.height)
            canvas.rectangle(x1, y1, x2, y2, thickness: thickness, color: color)
            let name = d.classID < names.count ? names[d.classID] : "class \(d.classID)"
            let label = "\(name) \(formatScore(d.score))"
            let textWidth = label.count * 6 * scale + 2 * scale
            let textHeight = 9 * scale
            let top = y1 - textHeight >= 0 ? y1 - textHeight : y1
            canvas.fill(x1, top, x1 + textWidth, top + textHeight, color: color)
            canvas.text(label, x: x1 + scale, y: top + scale, scale: scale, color: (255, 255, 255))
        }
        return (try? RGBImage(width: image.width, height: image.height, pixels: canvas.pixels)) ?? image
    }

    /// A pixel coordinate inside `0 ..< size` (non-finite coordinates become 0).
    private static func clamp(_ v: Double, _ size: Int) -> Int {
        guard v.isFinite else { return 0 }
        return Int(min(max(v.rounded(), 0), Double(size - 1)))
    }

    private static func formatScore(_ s: Float) -> String {
        let hundredths = Int((s * 100).rounded())
        return "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
    }

    private static let palette: [(UInt8, UInt8, UInt8)] = [
        (230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180),
        (70, 150, 150), (240, 50, 230), (128, 128, 0), (0, 0, 128), (170, 110, 40),
    ]

    private struct Canvas {
        let width: Int
        let height: Int
        var pixels: [UInt8]

        mutating func set(_ x: Int, _ y: Int, _ c: (UInt8, UInt8, UInt8)) {
            guard x >= 0, y >= 0, x < width, y < height else { return }
            let i = (y * width + x) * 3
            pixels[i] = c.0
            pixels[i + 1] = c.1
            pixels[i + 2] = c.2
        }

        mutating func fill(_ x1: Int, _ y1: Int, _ x2: Int, _ y2: Int, color: (UInt8, UInt8, UInt8)) {
            let xa = max(0, min(x1, x2))
            let xb = min(width - 1, max(x1, x2))
            let ya = max(0, min(y1, y2))
            let yb = min(height - 1, max(y1, y2))
            guard xa <= xb, ya <= yb else { return }
            for y in ya...yb { for x in xa...xb { set(x, y, color) } }
        }

        mutating func rectangle(
            _ x1: Int, _ y1: Int, _ x2: Int, _ y2: Int, thickness: Int, color: (UInt8, UInt8, UInt8)
        ) {
            let t = thickness - 1
            fill(x1, y1, x2, y1 + t, color: color)
            fill(x1, y2 - t, x2, y2, color: color)
            fill(x1, y1, x1 + t, y2, color: color)
            fill(x2 - t, y1, x2, y2, color: color)
        }

        mutating func text(_ s: String, x: Int, y: Int, scale: Int, color: (UInt8, UInt8, UInt8)) {
            var cx = x
            for ch in s.uppercased() {
                if let rows = BitmapFont.glyph(ch) {
                    for (r, row) in rows.enumerated() {
                        for c in 0..<5 where row & (0b10000 >> c) != 0 {
                            fill(
                                cx + c * scale, y + r * scale, cx + (c + 1) * scale - 1, y + (r + 1) * scale - 1,
                                color: color)
                        }
                    }
                }
                cx += 6 * scale
            }
        }
    }
}

/// A 5×7 bitmap font: digits, capital letters and a little punctuation. Each glyph is seven
/// rows of five bits, most significant bit leftmost.
enum BitmapFont {
    static func glyph(_ c: Character) -> [UInt8]? { glyphs[c] }

    private static let glyphs: [Character: [UInt8]] = [
        "0": rows("01110 10001 10011 10101 11001 10001 01110"),
        "1": rows("00100 01100 00100 00100 00100 00100 01110"),
        "2": rows("01110 10001 00001 00010 00100 01000 11111"),
        "3": rows("11111 00010 00100 00010 00001 10001 01110"),
        "4": rows("00010 00110 01010 10010 11111 00010 00010"),
        "5": rows("11111 10000 11110 00001 00001 10001 01110"),
        "6": rows("00110 01000 10000 11110 10001 10001 01110"),
        "7": rows("11111 00001 00010 00100 01000 01000 01000"),
        "8": rows("01110 10001 10001 01110 10001 10001 01110"),
        "9": rows("01110 10001 10001 01111 00001 00010 01100"),
        "A": rows("01110 10001 10001 11111 10001 10001 10001"),
        "B": rows("11110 10001 10001 11110 10001 10001 11110"),
        "C": rows("01110 10001 10000 10000 10000 10001 01110"),
        "D": rows("11100 10010 10001 10001 10001 10010 11100"),
        "E": rows("11111 10000 10000 11110 10000 10000 11111"),
        "F": rows("11111 10000 10000 11110 10000 10000 10000"),
        "G": rows("01110 10001 10000 10111 10001 10001 01111"),
        "H": rows("10001 10001 10001 11111 10001 10001 10001"),
        "I": rows("01110 00100 00100 00100 00100 00100 01110"),
        "J": rows("00111 00010 00010 00010 00010 10010 01100"),
        "K": rows("10001 10010 10100 11000 10100 10010 10001"),
        "L": rows("10000 10000 10000 10000 10000 10000 11111"),
        "M": rows("10001 11011 10101 10101 10001 10001 10001"),
        "N": rows("10001 10001 11001 10101 10011 10001 10001"),
        "O": rows("01110 10001 10001 10001 10001 10001 01110"),
        "P": rows("11110 10001 10001 11110 10000 10000 10000"),
        "Q": rows("01110 10001 10001 10001 10101 10010 01101"),
        "R": rows("11110 10001 10001 11110 10100 10010 10001"),
        "S": rows("01111 10000 10000 01110 00001 00001 11110"),
        "T": rows("11111 00100 00100 00100 00100 00100 00100"),
        "U": rows("10001 10001 10001 10001 10001 10001 01110"),
        "V": rows("10001 10001 10001 10001 10001 01010 00100"),
        "W": rows("10001 10001 10001 10101 10101 10101 01010"),
        "X": rows("10001 10001 01010 00100 01010 10001 10001"),
        "Y": rows("10001 10001 10001 01010 00100 00100 00100"),
        "Z": rows("11111 00001 00010 00100 01000 10000 11111"),
        ".": rows("00000 00000 00000 00000 00000 01100 01100"),
        "-": rows("00000 00000 00000 11111 00000 00000 00000"),
        "_": rows("00000 00000 00000 00000 00000 00000 11111"),
        "'": rows("00100 00100 01000 00000 00000 00000 00000"),
        "/": rows("00000 00001 00010 00100 01000 10000 00000"),
        ":": rows("00000 01100 01100 00000 01100 01100 00000"),
        "%": rows("11000 11001 00010 00100 01000 10011 00011"),
        " ": rows("00000 00000 00000 00000 00000 00000 00000"),
    ]

    private static func rows(_ s: String) -> [UInt8] {
        s.split(separator: " ").map { UInt8($0, radix: 2) ?? 0 }
    }
}

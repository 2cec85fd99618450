import Foundation
import Testing

@testable import Functions
@testable import Inference

/// A minimal PNG writer (stored deflate blocks) so tests can make every PNG variant.
enum TinyPNG {
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return ~c
    }

    static func be32(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return be32(UInt32(data.count)) + body + be32(crc32(body))
    }

    /// `rows` are raw scanlines (without filter bytes) for the given colour type and depth.
    static func encode(
        width: Int, height: Int, colorType: UInt8, depth: UInt8, rows: [[UInt8]], palette: [UInt8]? = nil
    ) -> [UInt8] {
        var raw: [UInt8] = []
        for r in rows { raw += [0] + r }
        var zlib: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let n = min(65_535, raw.count - offset)
            let final: UInt8 = offset + n == raw.count ? 1 : 0
            zlib += [final, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            zlib += raw[offset..<(offset + n)]
            offset += n
        } while offset < raw.count
        var a: UInt32 = 1
        var b: UInt32 = 0
        for x in raw {
            a = (a + UInt32(x)) % 65_521
            b = (b + a) % 65_521
        }
        zlib += be32(b << 16 | a)
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        png += chunk("IHDR", be32(UInt32(width)) + be32(UInt32(height)) + [depth, colorType, 0, 0, 0])
        if let palette { png += chunk("PLTE", palette) }
        png += chunk("IDAT", zlib) + chunk("IEND", [])
        return png
    }
}

@Suite("Image codecs")
struct DetectCodecTests {
    /// (colour type, depth, one 2-pixel row, expected RGB of those 2 pixels)
    static let variants: [(UInt8, UInt8, [UInt8], [UInt8])] = [
        (2, 8, [10, 20, 30, 40, 50, 60], [10, 20, 30, 40, 50, 60]),
        (6, 8, [10, 20, 30, 0, 40, 50, 60, 255], [10, 20, 30, 40, 50, 60]),  // alpha dropped, not composited
        (0, 8, [7, 200], [7, 7, 7, 200, 200, 200]),
        (4, 8, [7, 0, 200, 9], [7, 7, 7, 200, 200, 200]),
        (2, 16, [10, 99, 20, 99, 30, 99, 40, 1, 50, 1, 60, 1], [10, 20, 30, 40, 50, 60]),
        (0, 16, [0xAB, 0xCD, 0x01, 0x02], [0xAB, 0xAB, 0xAB, 1, 1, 1]),
        (0, 1, [0b0100_0000], [0, 0, 0, 255, 255, 255]),
        (3, 8, [1, 0], [4, 5, 6, 1, 2, 3]),
    ]

    @Test(arguments: variants.indices)
    func pngVariantsDecodeToRGB(_ i: Int) throws {
        let (type, depth, row, want) = Self.variants[i]
        let png = TinyPNG.encode(
            width: 2, height: 1, colorType: type, depth: depth, rows: [row],
            palette: type == 3 ? [1, 2, 3, 4, 5, 6] : nil)
        let image = try ImageCodec.decode(png, maxPixels: 100)
        #expect(image.width == 2 && image.height == 1)
        #expect(image.pixels == want)
    }

    @Test func jpegRoundTripKeepsSizeAndColour() throws {
        let w = 32
        let h = 16
        let pixels: [UInt8] = (0..<(w * h)).flatMap { _ -> [UInt8] in [200, 30, 60] }
        let jpeg = try ImageCodec.encodeJPEG(try RGBImage(width: w, height: h, pixels: pixels), quality: 95)
        #expect(ImageCodec.sniff(jpeg) == .jpeg)
        let back = try ImageCodec.decode(jpeg, maxPixels: 1000)
        #expect(back.width == w && back.height == h)
        #expect(zip(back.pixels, pixels).allSatisfy { abs(Int($0) - Int($1)) <= 6 })
    }

    /// A JPEG whose left half is red and right half blue, with an EXIF orientation segment.
    static func orientedJPEG(_ orientation: UInt16) throws -> [UInt8] {
        let w = 16
        let h = 8
        var pixels: [UInt8] = []
        for _ in 0..<h {
            for x in 0..<w {
                let colour: [UInt8] = x < w / 2 ? [255, 0, 0] : [0, 0, 255]
                pixels += colour
            }
        }
        let jpeg = try ImageCodec.encodeJPEG(try RGBImage(width: w, height: h, pixels: pixels), quality: 95)
        // TIFF, big-endian: header, one IFD with one entry (0x0112 SHORT x1 = orientation), no next IFD.
        let tiff: [UInt8] = [
            0x4D, 0x4D, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1,
            UInt8(orientation >> 8), UInt8(orientation & 0xFF), 0, 0, 0, 0, 0, 0,
        ]
        let payload: [UInt8] = [0x45, 0x78, 0x69, 0x66, 0, 0] + tiff
        let length = payload.count + 2
        return [0xFF, 0xD8, 0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + payload + jpeg.dropFirst(2)
    }

    @Test func exifOrientationIsHonoured() throws {
        let upright = try ImageCodec.decode(try Self.orientedJPEG(1), maxPixels: 1000)
        #expect(upright.width == 16 && upright.height == 8)
        let rotated = try ImageCodec.decode(try Self.orientedJPEG(6), maxPixels: 1000)
        #expect(try ImageCodec.header(try Self.orientedJPEG(6)) == .init(format: .jpeg, width: 8, height: 16))
        #expect(rotated.width == 8 && rotated.height == 16)
        // Rotated 90° clockwise: the red left half is now on top.
        let top = Array(rotated.pixels[(2 * 8 + 4) * 3..<((2 * 8 + 4) * 3 + 3)])
        let bottom = Array(rotated.pixels[(13 * 8 + 4) * 3..<((13 * 8 + 4) * 3 + 3)])
        #expect(top[0] > 180 && top[2] < 80, "\(top)")
        #expect(bottom[2] > 180 && bottom[0] < 80, "\(bottom)")
    }

    @Test func pixelLimitIsCheckedFromTheHeaderBeforeDecoding() throws {
        var jpeg = try ImageCodec.encodeJPEG(
            try RGBImage(width: 8, height: 8, pixels: [UInt8](repeating: 9, count: 192)))
        // Patch the SOF0 frame to claim 60000 x 60000 pixels (10.8 GB decoded).
        let sof = try #require((0..<(jpeg.count - 1)).first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 })
        jpeg.replaceSubrange((sof + 5)..<(sof + 9), with: [0xEA, 0x60, 0xEA, 0x60])
        #expect(try ImageCodec.header(jpeg).pixels == 3_600_000_000)
        let error = try #require(throws: FunctionError.self) { try ImageCodec.decode(jpeg, maxPixels: 40_000_000) }
        #expect(
            error.code == .unprocessable && error.message.contains("60000x60000") && error.message.contains("40000000"))
        let png = TinyPNG.encode(
            width: 3000, height: 1, colorType: 0, depth: 8, rows: [[UInt8](repeating: 1, count: 3000)])
        #expect(throws: FunctionError.self) { try ImageCodec.decode(png, maxPixels: 2999) }
    }

    @Test(arguments: ["dog.jpg", "girl.png"])
    func truncatedAndCorruptImagesAreUnprocessable(_ name: String) throws {
        let bytes = try DetectShared.bytes("data/images/\(name)")
        for broken in [
            Array(bytes.prefix(bytes.count / 2)), Array(bytes.prefix(40)),
            Array(bytes.prefix(12)) + [UInt8](repeating: 0x55, count: 500),
        ] {
            let error = try #require(throws: FunctionError.self) {
                try ImageCodec.decode(broken, maxPixels: 40_000_000)
            }
            #expect(error.code == .unprocessable, "\(error)")
        }
    }

    @Test func otherFormatsAreUnsupported() throws {
        for bytes in [Array("GIF89a....".utf8), Array("hello, world".utf8), [0x42, 0x4D, 0, 0, 0, 0]] {
            let error = try #require(throws: FunctionError.self) { try ImageCodec.decode(bytes, maxPixels: 100) }
            #expect(error.code == .unsupportedMediaType)
        }
    }
}

import CImageCodecs
import Inference

/// JPEG and PNG through the `CImageCodecs` shim (libjpeg, libpng behind `setjmp`): a corrupt
/// image is an error, never an exit. The only owner of the C calls; no pointers leave it.
package enum ImageCodec {
    /// The container formats we decode.
    package enum Format: String, Sendable {
        case jpeg, png
    }

    /// What a header says, before any pixel is decoded.
    package struct Header: Sendable, Equatable {
        package var format: Format
        /// Displayed size (EXIF orientation applied).
        package var width: Int
        package var height: Int
        package var pixels: Int { width * height }
    }

    /// The format the magic bytes announce, or nil.
    package static func sniff(_ bytes: [UInt8]) -> Format? {
        if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF { return .jpeg }
        if bytes.count >= 8, bytes[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            return .png
        }
        return nil
    }

    /// A name for formats we recognise but do not decode (for a clear 415).
    package static func otherFormat(_ bytes: [UInt8]) -> String? {
        func starts(_ p: [UInt8]) -> Bool { bytes.count >= p.count && bytes[0..<p.count].elementsEqual(p) }
        if starts(Array("GIF8".utf8)) { return "GIF" }
        if starts([0x42, 0x4D]) { return "BMP" }
        if starts(Array("RIFF".utf8)), bytes.count >= 12, bytes[8..<12].elementsEqual(Array("WEBP".utf8)) {
            return "WebP"
        }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return "TIFF" }
        if bytes.count >= 12, bytes[4..<8].elementsEqual(Array("ftyp".utf8)) { return "HEIF/AVIF" }
        return nil
    }

    /// Reads only the header. Throws `unsupportedMediaType` for bytes that are not JPEG or PNG,
    /// `unprocessable` for a header that cannot be read.
    package static func header(_ bytes: [UInt8]) throws -> Header {
        guard let format = sniff(bytes) else {
            if let other = otherFormat(bytes) {
                throw FunctionError(.unsupportedMediaType, "\(other) images are not supported; send JPEG or PNG")
            }
            throw FunctionError(.unsupportedMediaType, "the body is not a JPEG or PNG image")
        }
        var w: Int32 = 0
        var h: Int32 = 0
        var orientation: Int32 = 1
        var message = [CChar](repeating: 0, count: 256)
        let rc: Int32 = bytes.withUnsafeBufferPointer { p in
            switch format {
            case .jpeg: return mscr_jpeg_probe(p.baseAddress, p.count, &w, &h, &orientation, &message, message.count)
            case .png: return mscr_png_probe(p.baseAddress, p.count, &w, &h, &message, message.count)
            }
        }
        guard rc == 0 else { throw failure(rc, format, message) }
        guard w > 0, h > 0 else {
            throw FunctionError(
                .unprocessable, "the \(format.rawValue.uppercased()) header says the image is \(w)x\(h)")
        }
        let rotated = format == .jpeg && orientation >= 5
        return Header(format: format, width: Int(rotated ? h : w), height: Int(rotated ? w : h))
    }

    /// Decodes a JPEG or PNG to 8-bit RGB (EXIF orientation applied, alpha dropped), checking the
    /// header's pixel count against `maxPixels` before allocating anything.
    package static func decode(_ bytes: [UInt8], maxPixels: Int) throws -> RGBImage {
        let info = try header(bytes)
        guard info.pixels <= maxPixels, info.pixels <= Int.max / 4 else {
            throw FunctionError(
                .unprocessable,
                "the image is \(info.width)x\(info.height) = \(info.pixels) pixels, over this function's limit of \(maxPixels)"
            )
        }
        var pixels = [UInt8](repeating: 0, count: info.pixels * 3)
        var message = [CChar](repeating: 0, count: 256)
        let rc: Int32 = bytes.withUnsafeBufferPointer { p in
            pixels.withUnsafeMutableBufferPointer { out in
                switch info.format {
                case .jpeg:
                    return mscr_jpeg_decode(
                        p.baseAddress, p.count, 1, out.baseAddress, out.count, &message, message.count)
                case .png:
                    return mscr_png_decode(p.baseAddress, p.count, out.baseAddress, out.count, &message, message.count)
                }
            }
        }
        guard rc == 0 else { throw failure(rc, info.format, message) }
        do {
            return try RGBImage(width: info.width, height: info.height, pixels: pixels)
        } catch {
            throw FunctionError(.internal, "decoded image has the wrong size: \(error)")
        }
    }

    /// Encodes `image` as a baseline JPEG.
    package static func encodeJPEG(_ image: RGBImage, quality: Int = 90) throws -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        var message = [CChar](repeating: 0, count: 256)
        let rc = image.pixels.withUnsafeBufferPointer { p in
            mscr_jpeg_encode(
                p.baseAddress, Int32(image.width), Int32(image.height), Int32(quality), &out, &size, &message,
                message.count)
        }
        defer { mscr_codecs_free(out) }
        guard rc == 0, let out else {
            throw FunctionError(.internal, "JPEG encoding failed: \(text(message))")
        }
        return Array(UnsafeBufferPointer(start: out, count: size))
    }

    private static func failure(_ rc: Int32, _ format: Format, _ message: [CChar]) -> FunctionError {
        let name = format.rawValue.uppercased()
        switch rc {
        case 2: return FunctionError(.unsupportedMediaType, "unsupported \(name) variant: \(text(message))")
        case 4: return FunctionError(.internal, "out of memory decoding the \(name) image")
        default: return FunctionError(.unprocessable, "the \(name) image is corrupt or truncated: \(text(message))")
        }
    }

    private static func text(_ message: [CChar]) -> String {
        let bytes = message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

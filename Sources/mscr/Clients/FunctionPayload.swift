import ArgumentParser
import Common
import FoundationEssentials

/// A request body read from a file, with the `Content-Type` its function expects:
/// detect gets the image bytes as `image/jpeg` or `image/png` (by magic bytes, whatever the
/// file is called); stock gets `application/json` when the text starts with `{`, else `text/csv`.
struct FunctionPayload: Sendable {
    var body: [UInt8]
    var contentType: String
    /// The file it came from, for messages.
    var source: String

    /// Reads `path` (`-` is stdin) and picks the content type for `function`; `override` wins.
    static func read(_ path: String, function: String, override: String? = nil) throws -> FunctionPayload {
        let data: Data?
        if path == "-" {
            data = Data(StandardStream.readInput())
        } else {
            data = FileManager.default.contents(atPath: path)
        }
        guard let data else { throw ValidationError("cannot read \(path)") }
        let body = [UInt8](data)
        if let override, !override.isEmpty { return FunctionPayload(body: body, contentType: override, source: path) }
        return FunctionPayload(
            body: body, contentType: try contentType(for: body, function: function, path: path), source: path)
    }

    static func contentType(for body: [UInt8], function: String, path: String) throws -> String {
        let image = imageType(body)
        switch function {
        case "detect":
            guard let image else {
                throw ValidationError(
                    "\(path) is not a JPEG or PNG file (the detect function takes image bytes); "
                        + "pass --content-type to send it anyway")
            }
            return image
        case "stock":
            return looksLikeJSON(body) ? "application/json" : "text/csv"
        default:
            if let image { return image }
            if looksLikeJSON(body) { return "application/json" }
            return String(validating: body.prefix(4096), as: UTF8.self) != nil ? "text/csv" : "application/octet-stream"
        }
    }

    /// `image/jpeg` (FF D8 FF) or `image/png` (89 'PNG' CR LF 1A LF), else nil.
    static func imageType(_ bytes: [UInt8]) -> String? {
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "image/png" }
        return nil
    }

    /// The first byte that is not white space (after a UTF-8 byte order mark) is `{`.
    static func looksLikeJSON(_ bytes: [UInt8]) -> Bool {
        var rest = bytes[...]
        if rest.starts(with: [0xEF, 0xBB, 0xBF]) { rest = rest.dropFirst(3) }
        return rest.first { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D } == UInt8(ascii: "{")
    }
}

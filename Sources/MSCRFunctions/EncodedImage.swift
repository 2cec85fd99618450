import FoundationEssentials
internal import Functions

/// An image as it arrived: JPEG or PNG bytes, not yet decoded.
///
/// As a field of a function's `Input`, it receives the request's image body (or its multipart
/// `file` part). In a JSON body it is a base64 string.
public struct EncodedImage: Sendable, Equatable, Codable {
    /// The encoded bytes.
    public var bytes: [UInt8]

    /// An image from its encoded bytes.
    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// `"jpeg"` or `"png"` as the magic bytes say, or nil for anything else.
    public var format: String? { ImageCodec.sniff(bytes)?.rawValue }

    /// Decodes a base64 string (standard alphabet, padding optional).
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        var padded = text
        while padded.utf8.count % 4 != 0 { padded += "=" }
        guard let data = Data(base64Encoded: padded) else {
            let path = decoder.codingPath.map(\.stringValue).joined(separator: ".")
            throw FunctionFailure.invalidInput("\"\(path)\" must be a base64 string of a JPEG or PNG image")
        }
        bytes = Array(data)
    }

    /// Encodes as a base64 string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(Data(bytes).base64EncodedString())
    }
}

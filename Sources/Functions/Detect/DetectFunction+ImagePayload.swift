extension DetectFunction {
    /// The image file in a `BYTES` element: the element itself when it sniffs as JPEG or PNG
    /// (no image file is valid base64 text, so the two cannot be confused), else its base64
    /// decoding when it is base64, else the element (which the decoder then rejects).
    package static func imagePayload(_ element: [UInt8]) -> [UInt8] {
        if ImageCodec.sniff(element) != nil { return element }
        if let decoded = TensorBase64.decode(element), !decoded.isEmpty { return decoded }
        return element
    }
}

import MSCRFunctions

/// A detect request: the image and the score threshold asked for.
public struct DetectInput: Decodable, Sendable {
    /// The photo, JPEG or PNG.
    public var image: EncodedImage
    /// The score threshold (`?threshold=`), or nil for the model's default.
    public var threshold: Float?

    /// A request.
    public init(image: EncodedImage, threshold: Float? = nil) {
        self.image = image
        self.threshold = threshold
    }

    enum CodingKeys: String, CodingKey {
        case image, threshold
    }

    /// The threshold first (a bad one is refused before the body is looked at), then the image.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let text = try container.decodeIfPresent(String.self, forKey: .threshold) {
            guard let t = Float(text), t.isFinite, t >= 0, t < 1 else {
                throw FunctionFailure.invalidInput("threshold must be a number in [0.01, 1), not '\(text)'")
            }
            threshold = t
        }
        image = try container.decode(EncodedImage.self, forKey: .image)
    }
}

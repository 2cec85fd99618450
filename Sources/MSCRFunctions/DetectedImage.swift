internal import Functions
package import Inference

/// What a ``DetectionModel`` found in one image, as a function's output the runtime knows how
/// to render: `POST /functions/<name>` answers the detect JSON
/// (`{"model": {"name", "version"}, "image": {"width", "height"}, "detections": [{"class",
/// "class_id", "score", "box": {"x1", "y1", "x2", "y2"}}]}`, scores to 6 decimals, corners to 3),
/// or with `?format=jpeg` the image with its boxes and labels drawn.
public struct DetectedImage: Sendable {
    /// The detections, highest score first.
    public let detections: [Detection]
    /// The image's width in pixels (EXIF orientation applied).
    public var width: Int { result.width }
    /// The image's height in pixels.
    public var height: Int { result.height }
    /// The model's name in the repository.
    public let modelName: String
    /// The model version that answered.
    public let modelVersion: Int

    /// The engine's answer (what the runtime renders).
    package let result: DetectionResult
    /// The decoded image (what `?format=jpeg` draws on).
    package let image: RGBImage
    /// Class names, index = class id.
    package let classNames: [String]

    package init(result: DetectionResult, image: RGBImage, classNames: [String], modelName: String, modelVersion: Int) {
        self.result = result
        self.image = image
        self.classNames = classNames
        self.modelName = modelName
        self.modelVersion = modelVersion
        detections = result.detections.map { d in
            Detection(
                label: d.classID < classNames.count ? classNames[d.classID] : "class \(d.classID)",
                classID: d.classID, score: d.score,
                box: Detection.Box(x1: d.box.x1, y1: d.box.y1, x2: d.box.x2, y2: d.box.y2))
        }
    }
}

extension DetectedImage: Encodable {
    private enum Keys: String, CodingKey {
        case model, image, detections, name, version, width, height
    }

    /// `{"model": {"name", "version"}, "image": {"width", "height"}, "detections": […]}` (the
    /// runtime writes the HTTP answer itself, with its number format).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        var model = container.nestedContainer(keyedBy: Keys.self, forKey: .model)
        try model.encode(modelName, forKey: .name)
        try model.encode(modelVersion, forKey: .version)
        var image = container.nestedContainer(keyedBy: Keys.self, forKey: .image)
        try image.encode(width, forKey: .width)
        try image.encode(height, forKey: .height)
        try container.encode(detections, forKey: .detections)
    }
}

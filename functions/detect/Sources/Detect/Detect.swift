import MSCRFunctions

/// The detect function (`"kind": "detect"` in `function.json`; `"darknet-yolo"` is its older
/// name, ``DarknetYOLO``): finds objects in a JPEG or PNG with a ``DetectionModel`` (a Darknet
/// YOLO network or an Ultralytics ONNX export, by the published version's format).
///
/// `POST /functions/detect` takes the image as the body or a multipart `file` part and
/// `?threshold=` (a score in [0.01, 1)); it answers the detect JSON
/// (`{"model", "image", "detections"}`), or with `?format=jpeg` the photo with its boxes drawn
/// (the runtime renders ``DetectedImage`` either way). Over V2 it takes `image` (one `BYTES`
/// element) and the request parameter `threshold`, and answers `boxes`, `scores`, `classes` and
/// `labels`.
public struct Detect: ObjectDetection {
    /// `"detect"`.
    public static let kind = "detect"

    /// Takes every `params` (the model reads `threshold`, `nms`, `max_det`).
    public init(parameters: FunctionParameters) throws {}
}

/// The detect function under its older kind name, `"darknet-yolo"`: the same as ``Detect``.
public struct DarknetYOLO: ObjectDetection {
    /// `"darknet-yolo"`.
    public static let kind = "darknet-yolo"

    /// Takes every `params` (the model reads `threshold`, `nms`, `max_det`).
    public init(parameters: FunctionParameters) throws {}
}

/// What ``Detect`` and ``DarknetYOLO`` share: everything but their kind.
public protocol ObjectDetection: TensorInterface
where Input == DetectInput, Output == DetectedImage, Model == DetectionModel {}

extension ObjectDetection {
    /// Only an image body or a multipart `file` part (JSON is not a detect request).
    public static var inputBody: InputBody { .imageOnly }

    /// Detects objects in the image at the request's threshold (or the model's default).
    public func handle(_ input: DetectInput, model: DetectionModel, context: FunctionContext) throws -> DetectedImage {
        try model.detectImage(input.image, threshold: input.threshold)
    }
}

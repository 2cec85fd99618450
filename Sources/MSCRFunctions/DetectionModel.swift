internal import Functions
internal import Inference

/// An object detector, loaded by the version's manifest `format`:
/// - `darknet-yolo`: a Darknet YOLO network (`model.cfg`, `model.weights` parsed while it
///   streams, `classes.txt`), on mscr's own kernels;
/// - `onnx`: an Ultralytics-style export (YOLOv5u/v8/11: `model.onnx`, one input `[1, 3, H, W]`,
///   one output `[1, 4+classes, boxes]`; class names from `classes.txt` or the export's `names`).
///
/// Reads `params.threshold` (default score threshold, 0.25), `params.nms` (overlap threshold of
/// non-maximum suppression: 0.45 for Darknet, 0 turns it off; 0.7 for ONNX), `params.max_det`
/// (ONNX: most detections, 300) and `limits.maxPixels` (largest image decoded).
public final class DetectionModel: FunctionModel {
    /// `["darknet-yolo", "onnx"]`.
    public static var formats: [String] { ["darknet-yolo", "onnx"] }

    let detector: any DetectingFunction

    /// Loads the network and its class names from `files`, by their format.
    public init(files: ModelFiles, parameters: FunctionParameters) throws {
        _ = try parameters.float("threshold", default: 0.25, in: DetectFunction.minimumThreshold...0.999)
        _ = try parameters.float("nms", default: 0.45, in: 0...1)
        do {
            if files.format == "onnx" {
                detector = try ONNXDetectFunction.load(config: parameters.config, model: files.model)
            } else {
                detector = try DetectLoader.darknet(config: parameters.config, model: files.model)
            }
        } catch let error as FunctionError {
            throw FunctionFailure(error)
        }
    }

    /// The format it was loaded from: `"darknet-yolo"` or `"onnx"`.
    public var format: String { detector is ONNXDetectFunction ? "onnx" : "darknet-yolo" }
    /// Class names, indexed by class id.
    public var classNames: [String] { detector.classNames }
    /// The score threshold used when `detect` is not given one (`params.threshold`).
    public var defaultThreshold: Float {
        (detector as? DetectFunction)?.threshold ?? (detector as? ONNXDetectFunction)?.threshold ?? 0.25
    }
    /// The bytes the loaded network holds (weights, packed copies, scratch), for the memory budget.
    public var memoryBytes: Int? { detector.memoryBytes }

    /// The memory of a Darknet load: the weights and as much again for packed copies and
    /// scratch (the compiled artifact, when published, is not counted).
    public static func memoryEstimate(fileSizes: [String: Int]) -> Int {
        2 * fileSizes.filter { $0.key != DarknetModelLoader.artifactName }.values.reduce(0, +)
    }

    /// Decodes a JPEG or PNG and detects objects in it: detections scoring at least `threshold`
    /// (default ``defaultThreshold``), after non-maximum suppression, highest score first.
    ///
    /// Throws ``FunctionFailure`` with `.unsupportedInput` for bytes that are not JPEG or PNG,
    /// `.unprocessable` for a corrupt image or one over `limits.maxPixels`, `.invalidInput` for an
    /// empty image or a threshold outside [0.01, 1).
    public func detect(_ image: EncodedImage, threshold: Float? = nil) throws -> [Detection] {
        try detectImage(image, threshold: threshold).detections
    }

    /// ``detect(_:threshold:)`` with the image's size and the model's name and version: an
    /// output the runtime renders as the detect JSON, or with `?format=jpeg` as the image with
    /// its boxes drawn.
    public func detectImage(_ image: EncodedImage, threshold: Float? = nil) throws -> DetectedImage {
        do {
            guard !image.bytes.isEmpty else { throw FunctionError(.invalidInput, "the image is empty") }
            let decoded = try ImageCodec.decode(image.bytes, maxPixels: detector.maxPixels)
            let result = try detector.detect(image: decoded, threshold: threshold)
            return DetectedImage(
                result: result, image: decoded, classNames: detector.classNames, modelName: detector.modelName,
                modelVersion: detector.version)
        } catch let error as FunctionError {
            throw FunctionFailure(error)
        }
    }
}

/// One object found in an image.
public struct Detection: Sendable, Equatable, Codable {
    /// A box in pixels of the original image: corners, not clamped to the image.
    public struct Box: Sendable, Equatable, Codable {
        /// Left edge.
        public var x1: Double
        /// Top edge.
        public var y1: Double
        /// Right edge.
        public var x2: Double
        /// Bottom edge.
        public var y2: Double

        /// A box from its corners.
        public init(x1: Double, y1: Double, x2: Double, y2: Double) {
            self.x1 = x1
            self.y1 = y1
            self.x2 = x2
            self.y2 = y2
        }
    }

    /// The class name (from the model's `classes.txt`), e.g. `"person"`.
    public var label: String
    /// The class index.
    public var classID: Int
    /// Objectness × class probability, in (0, 1].
    public var score: Float
    /// Where it is.
    public var box: Box

    /// A detection.
    public init(label: String, classID: Int, score: Float, box: Box) {
        self.label = label
        self.classID = classID
        self.score = score
        self.box = box
    }
}

internal import Functions
internal import Inference

/// A Darknet YOLO detector (manifest format `darknet-yolo`: `model.cfg`, `model.weights`,
/// `classes.txt`), loaded while its weights stream from the repository.
///
/// Reads `params.threshold` (default score threshold, 0.25) and `params.nms` (overlap threshold of
/// non-maximum suppression, 0.45; 0 turns it off) and `limits.maxPixels` (largest image decoded).
public final class DetectionModel: FunctionModel {
    /// `["darknet-yolo"]`.
    public static var formats: [String] { ["darknet-yolo"] }

    let detector: DetectFunction

    /// Loads the network and its class names from `files`.
    public init(files: ModelFiles, parameters: FunctionParameters) throws {
        _ = try parameters.float("threshold", default: 0.25, in: DetectFunction.minimumThreshold...0.999)
        _ = try parameters.float("nms", default: 0.45, in: 0...1)
        do {
            detector = try DetectKind().loadDetector(config: parameters.config, model: files.model)
        } catch let error as FunctionError {
            throw FunctionFailure(error)
        }
    }

    /// Class names, indexed by class id.
    public var classNames: [String] { detector.classNames }
    /// The score threshold used when `detect` is not given one (`params.threshold`).
    public var defaultThreshold: Float { detector.threshold }

    /// Decodes a JPEG or PNG and detects objects in it: detections scoring at least `threshold`
    /// (default ``defaultThreshold``), after non-maximum suppression, highest score first.
    ///
    /// Throws ``FunctionFailure`` with `.unsupportedInput` for bytes that are not JPEG or PNG,
    /// `.unprocessable` for a corrupt image or one over `limits.maxPixels`, `.invalidInput` for a
    /// threshold outside [0.01, 1).
    public func detect(_ image: EncodedImage, threshold: Float? = nil) throws -> [Detection] {
        do {
            let result = try detector.detect(imageBytes: image.bytes, threshold: threshold)
            let names = detector.classNames
            return result.detections.map { d in
                Detection(
                    label: d.classID < names.count ? names[d.classID] : "class \(d.classID)", classID: d.classID,
                    score: d.score, box: Detection.Box(x1: d.box.x1, y1: d.box.y1, x2: d.box.x2, y2: d.box.y2))
            }
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

import Common
import Inference

/// A loaded detect engine, Darknet (`DetectFunction`) or ONNX (`ONNXDetectFunction`): what the
/// public `DetectionModel` and the CLI need of it. One code path for both engines, so they answer
/// the same shapes; requests reach it only through the public API (the runtime's codecs).
package protocol DetectingFunction: Sendable {
    /// Class names, index = class id.
    var classNames: [String] { get }
    var modelName: String { get }
    /// The repository version it was loaded from.
    var version: Int { get }
    /// Bytes the loaded engine holds (weights, packed copies, scratch), for the memory budget.
    var memoryBytes: Int? { get }
    /// Largest decoded image accepted (`limits.maxPixels`), checked from the header.
    var maxPixels: Int { get }
    /// Detects objects in a decoded image; `threshold` overrides the function's score threshold.
    func detect(image: RGBImage, threshold: Float?) throws -> DetectionResult
}

extension DetectingFunction {
    /// Decodes a JPEG or PNG and detects objects in it (the CLI).
    package func detect(imageBytes: [UInt8], threshold: Float? = nil) throws -> DetectionResult {
        guard !imageBytes.isEmpty else { throw FunctionError(.invalidInput, "the image is empty") }
        let image = try ImageCodec.decode(imageBytes, maxPixels: maxPixels)
        return try detect(image: image, threshold: threshold)
    }

    /// Checks a requested score threshold against the floor every detect function keeps: below
    /// 0.01 nearly every box passes, tens of thousands of them, and NMS takes seconds for a
    /// meaningless answer.
    package static func checkThreshold(_ t: Float) throws {
        guard t >= DetectFunction.minimumThreshold, t < 1 else {
            throw FunctionError(.invalidInput, "threshold must be in [\(DetectFunction.minimumThreshold), 1), got \(t)")
        }
    }
}

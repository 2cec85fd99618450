import Common
import Inference

/// A loaded detect function, Darknet (`DetectFunction`) or ONNX (`ONNXDetectFunction`): what the
/// HTTP answer (JSON or a JPEG with the boxes drawn), the V2 adapter and the CLI need of it. One
/// code path for both engines, so they answer the same shapes.
package protocol DetectingFunction: TensorFunction {
    /// Class names, index = class id.
    var classNames: [String] { get }
    var modelName: String { get }
    var version: Int { get }
    /// Largest decoded image accepted (`limits.maxPixels`), checked from the header.
    var maxPixels: Int { get }
    /// Detects objects in a decoded image; `threshold` overrides the function's score threshold.
    func detect(image: RGBImage, threshold: Float?) throws -> DetectionResult
}

extension DetectingFunction {
    /// Decodes a JPEG or PNG and detects objects in it (the typed API for the V2 adapter and CLI).
    package func detect(imageBytes: [UInt8], threshold: Float? = nil) throws -> DetectionResult {
        guard !imageBytes.isEmpty else { throw FunctionError(.invalidInput, "the image is empty") }
        let image = try ImageCodec.decode(imageBytes, maxPixels: maxPixels)
        return try detect(image: image, threshold: threshold)
    }

    /// `POST /functions/<name>`: the image (body or multipart `file`) → the detections as JSON,
    /// or `?format=jpeg` the image with the boxes drawn; `?threshold=` overrides the threshold.
    package func invoke(_ request: FunctionRequest) throws -> FunctionResponse {
        let format = request.query["format"]?.lowercased() ?? "json"
        guard format == "json" || format == "jpeg" else {
            throw FunctionError(.invalidInput, "format must be 'json' or 'jpeg', not '\(format)'")
        }
        var threshold: Float? = nil
        if let text = request.query["threshold"] {
            guard let t = Float(text), t.isFinite, t >= 0, t < 1 else {
                throw FunctionError(
                    .invalidInput,
                    "threshold must be a number in [\(DetectFunction.minimumThreshold), 1), not '\(text)'")
            }
            threshold = t
        }
        let bytes = try DetectFunction.imageBytes(of: request)
        let image = try ImageCodec.decode(bytes, maxPixels: maxPixels)
        let result = try detect(image: image, threshold: threshold)
        if format == "jpeg" {
            let drawn = BoxRenderer.draw(result.detections, names: classNames, on: image)
            return FunctionResponse(body: try ImageCodec.encodeJPEG(drawn), contentType: "image/jpeg")
        }
        let json = DetectJSON.response(model: modelName, version: version, result: result, names: classNames)
        return FunctionResponse(body: Array(json.utf8), contentType: "application/json")
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

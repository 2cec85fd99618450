import Common
import FoundationEssentials
import Inference

/// A loaded `darknet-yolo` model: the network, its class names and the function's settings.
/// Immutable and shared by every request; each call borrows scratch memory from the network's pool.
package final class DetectFunction: LoadedFunction {
    package let network: DarknetNetwork
    /// Class names, index = class id.
    package let classNames: [String]
    package let modelName: String
    package let version: Int
    /// Default score threshold (`params.threshold`); a request may override it with `?threshold=`.
    package let threshold: Float
    /// The lowest score threshold a request may ask for.
    package static let minimumThreshold: Float = 0.01
    /// NMS overlap threshold (`params.nms`); 0 turns NMS off.
    package let nms: Float
    /// Largest decoded image accepted (`limits.maxPixels`), checked from the header.
    package let maxPixels: Int

    package init(
        network: DarknetNetwork, classNames: [String], modelName: String, version: Int,
        threshold: Float = 0.25, nms: Float = 0.45, maxPixels: Int = 40_000_000
    ) {
        self.network = network
        self.classNames = classNames
        self.modelName = modelName
        self.version = version
        self.threshold = threshold
        self.nms = nms
        self.maxPixels = maxPixels
    }

    /// Decodes a JPEG or PNG and detects objects in it (the typed API for the V2 adapter and CLI).
    package func detect(imageBytes: [UInt8], threshold: Float? = nil) throws -> DetectionResult {
        guard !imageBytes.isEmpty else { throw FunctionError(.invalidInput, "the image is empty") }
        let image = try ImageCodec.decode(imageBytes, maxPixels: maxPixels)
        return try detect(image: image, threshold: threshold)
    }

    /// Detects objects in a decoded image.
    package func detect(image: RGBImage, threshold: Float? = nil) throws -> DetectionResult {
        let t = threshold ?? self.threshold
        // Below 0.01 every cell's every class passes: tens of thousands of boxes and seconds of
        // NMS for a meaningless answer, so the floor bounds the work a request can ask for.
        guard t >= Self.minimumThreshold, t < 1 else {
            throw FunctionError(.invalidInput, "threshold must be in [\(Self.minimumThreshold), 1), got \(t)")
        }
        do {
            return try network.detect(image, threshold: t, nms: nms)
        } catch let error as InferenceError {
            throw FunctionError(.internal, "detection failed: \(error.message)", underlying: error)
        }
    }

    /// The network's weights and scratch arenas (for the memory budget).
    package var memoryBytes: Int? { network.memoryBytes }

    package func invoke(_ request: FunctionRequest) throws -> FunctionResponse {
        let format = request.query["format"]?.lowercased() ?? "json"
        guard format == "json" || format == "jpeg" else {
            throw FunctionError(.invalidInput, "format must be 'json' or 'jpeg', not '\(format)'")
        }
        var threshold: Float? = nil
        if let text = request.query["threshold"] {
            guard let t = Float(text), t.isFinite, t >= 0, t < 1 else {
                throw FunctionError(
                    .invalidInput, "threshold must be a number in [\(Self.minimumThreshold), 1), not '\(text)'")
            }
            threshold = t
        }
        let bytes = try Self.imageBytes(of: request)
        let image = try ImageCodec.decode(bytes, maxPixels: maxPixels)
        let result = try detect(image: image, threshold: threshold)
        if format == "jpeg" {
            let drawn = BoxRenderer.draw(result.detections, names: classNames, on: image)
            return FunctionResponse(body: try ImageCodec.encodeJPEG(drawn), contentType: "image/jpeg")
        }
        let json = DetectJSON.response(model: modelName, version: version, result: result, names: classNames)
        return FunctionResponse(body: Array(json.utf8), contentType: "application/json")
    }

    /// The image bytes of a request: the body itself (JPEG, PNG, octet-stream or no type) or the
    /// `file` part of a multipart form.
    package static func imageBytes(of request: FunctionRequest) throws -> [UInt8] {
        let type =
            request.contentType?.split(separator: ";").first.map {
                $0.trimmed.lowercased()
            } ?? ""
        let bytes: [UInt8]
        switch type {
        case "", "image/jpeg", "image/jpg", "image/pjpeg", "image/png", "application/octet-stream":
            bytes = request.body
        case "multipart/form-data":
            guard let boundary = DetectMultipartBody.boundary(of: request.contentType ?? "") else {
                throw FunctionError(.invalidInput, "multipart/form-data without a boundary")
            }
            guard let part = DetectMultipartBody.part(named: "file", in: request.body, boundary: boundary) else {
                throw FunctionError(.invalidInput, "the multipart form has no 'file' part")
            }
            bytes = part
        default:
            throw FunctionError(
                .unsupportedMediaType,
                "Content-Type \(type) is not accepted; send image/jpeg, image/png or multipart/form-data with a 'file' part"
            )
        }
        guard !bytes.isEmpty else { throw FunctionError(.invalidInput, "the image is empty (0 bytes)") }
        if ImageCodec.sniff(bytes) == nil, type == "image/jpeg" || type == "image/png" || type == "image/jpg",
            ImageCodec.otherFormat(bytes) == nil
        {
            throw FunctionError(.unprocessable, "the body is declared \(type) but is not a valid image")
        }
        return bytes
    }
}

import Common
import Inference
import ONNX
import ObjectStore

extension ONNXDetectFunction {
    /// Loads a model version of format `onnx` for kind `detect`: maps its compiled artifact or
    /// imports `model.onnx` (`ONNXModelLoader`), and takes
    /// the class names from `classes.txt`, else from the exporter's `names` metadata, else none
    /// (answers then say `class N`). `params`: `threshold` (0.25), `nms` (IoU, 0.7), `max_det` (300).
    package static func load(config: FunctionConfig, model: ModelVersion) throws -> ONNXDetectFunction {
        let origin = "model '\(model.model)' version \(model.version)"
        do {
            let loaded = try ONNXModelLoader.load(model: model)
            let network = loaded.network
            var names: [String] = []
            if model.manifest.files["classes.txt"] != nil {
                names = DetectLoader.classNames(String(decoding: try model.read("classes.txt").bytes, as: UTF8.self))
            } else if let entry = loaded.metadata["names"] {
                names = ONNXModelInfo.classNames(fromNames: entry) ?? []
            }
            let maxDet = config.params["max_det"] ?? 300
            guard maxDet >= 1, maxDet <= 100_000 else {
                throw FunctionError(.invalidInput, "params.max_det must be in 1…100000, got \(maxDet)")
            }
            return try ONNXDetectFunction(
                network: network, classNames: names, modelName: model.model, version: model.version,
                threshold: Float(config.params["threshold"] ?? 0.25), iou: Float(config.params["nms"] ?? 0.7),
                maxDetections: Int(maxDet), maxPixels: config.limits.maxPixels)
        } catch let error as ONNXError {
            throw FunctionError(
                .unavailable, "\(origin) cannot be loaded: \(error.message)", retryAfter: 30, underlying: error)
        } catch let error as FunctionError where error.code == .invalidInput {
            throw FunctionError(
                .unavailable, "\(origin) cannot be loaded: \(error.message)", retryAfter: 30, underlying: error)
        }
    }
}

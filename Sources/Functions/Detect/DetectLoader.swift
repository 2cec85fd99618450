import Common
import FoundationEssentials
import Inference
import ObjectStore

/// Loads the detect engines that the public `DetectionModel` holds, by the version's format: a
/// Darknet model (`model.cfg`, `model.weights` parsed while it streams, `classes.txt`) here, an
/// ONNX one with ``ONNXDetectFunction/load(config:model:)``.
package enum DetectLoader {
    /// Loads a Darknet YOLO version: its network (from the compiled artifact when there is a
    /// usable one) and class names, with the function's `params` and `limits`.
    package static func darknet(config: FunctionConfig, model: ModelVersion) throws -> DetectFunction {
        let cfgText = String(decoding: try model.read("model.cfg").bytes, as: UTF8.self)
        let names = classNames(String(decoding: try model.read("classes.txt").bytes, as: UTF8.self))
        let origin = "model '\(model.model)' version \(model.version)"
        do {
            let network = try DarknetModelLoader.load(
                model: model, cfgText: cfgText, concurrency: max(1, config.limits.concurrency)
            ).network
            guard names.count >= network.classCount else {
                throw InferenceError(
                    .invalidModel,
                    "classes.txt has \(names.count) names but the model predicts \(network.classCount) classes")
            }
            return DetectFunction(
                network: network, classNames: names, modelName: model.model, version: model.version,
                threshold: Float(config.params["threshold"] ?? 0.25), nms: Float(config.params["nms"] ?? 0.45),
                maxPixels: config.limits.maxPixels)
        } catch let error as InferenceError {
            throw FunctionError(
                .unavailable, "\(origin) cannot be loaded: \(error.message)", retryAfter: 30, underlying: error)
        }
    }

    /// One name per non-empty line, trimmed.
    package static func classNames(_ text: String) -> [String] {
        text.split(whereSeparator: \.isNewline).map { $0.trimmed }.filter { !$0.isEmpty }
    }
}

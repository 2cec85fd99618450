import Common
import FoundationEssentials
import Inference
import ObjectStore

/// The detect function kind, `detect` (and its older name `darknet-yolo`): by the version's
/// format, a Darknet model (`model.cfg`, `model.weights` parsed while it streams, `classes.txt`)
/// or an ONNX one (`ONNXDetectFunction`).
package struct DetectKind: FunctionKind {
    /// The kind's name in function.json.
    package let kind: String

    package init(kind: String = "darknet-yolo") { self.kind = kind }

    /// `image` → `boxes`, `scores`, `classes`, `labels` (`DetectingFunction`'s V2 face).
    package var tensorSignature: TensorSignature? { DetectFunction.staticTensorSignature }

    package func load(config: FunctionConfig, model: ModelVersion) throws -> any LoadedFunction {
        if model.manifest.format == "onnx" { return try ONNXDetectFunction.load(config: config, model: model) }
        return try loadDetector(config: config, model: model)
    }

    /// The weights file, and as much again for packed copies and the scratch arenas of the
    /// requests it runs at once; the loaded model then reports its own size.
    package func memoryEstimate(config: FunctionConfig, manifest: Manifest) -> Int {
        2 * manifest.files.filter { $0.key != DarknetModelLoader.artifactName }.values.reduce(0) { $0 + $1.size }
    }

    /// `load` with its concrete type.
    package func loadDetector(config: FunctionConfig, model: ModelVersion) throws -> DetectFunction {
        let cfgText = String(decoding: try model.read("model.cfg").bytes, as: UTF8.self)
        let names = Self.classNames(String(decoding: try model.read("classes.txt").bytes, as: UTF8.self))
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

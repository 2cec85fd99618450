import Inference
import Logging
import ONNX
import ObjectStore

/// Builds an `onnx` version's network: from its compiled artifact (`model.compiled`) when the
/// manifest lists one and this build can use it, mapped and verified (docs/formats.md), else by
/// importing `model.onnx`. As for Darknet (`DarknetModelLoader`), an artifact for another format
/// version or CPU is ignored with a log line; one that fails verification, is malformed or holds
/// another kind of model is logged as an error and model.onnx is used: a bad artifact never answers.
package enum ONNXModelLoader {
    static let logger = Logger(label: "mscr.functions.onnx")

    /// A loaded network, where it came from, and why the artifact was not used (if it was not).
    package struct Loaded: Sendable {
        package var network: ONNXNetwork
        /// The model's `metadata_props` (from the artifact, or read from model.onnx).
        package var metadata: [String: String]
        package var source: DarknetModelLoader.Source
        package var fallbackReason: String?
    }

    /// Loads `model`, a symbolic batch imported as `batch` (the artifact was compiled with the
    /// same: `mscr publish` and `mscr compile` give a stock regressor's graph
    /// `ONNXStockRegressor.importBatch`, every other graph 1). `policy.useArtifact == false`
    /// (`MSCR_ARTIFACT=off`) skips the artifact.
    package static func load(model: ModelVersion, policy: ArtifactPolicy = .current, batch: Int = 1) throws -> Loaded {
        var reason: String?
        let name = DarknetModelLoader.artifactName
        if model.manifest.files[name] != nil {
            if !policy.useArtifact {
                reason = "MSCR_ARTIFACT=off"
            } else {
                do {
                    let (bytes, stats) = try model.mapVerified(name)
                    let loaded = try ONNXArtifact.load(bytes.base, count: bytes.count, owner: bytes)
                    logger.info(
                        "model '\(model.model)' version \(model.version): loaded from its compiled artifact (\(bytes.count) bytes, mapped and verified in \(Int(stats.totalSeconds * 1000)) ms)"
                    )
                    return Loaded(network: loaded.network, metadata: loaded.metadata, source: .artifact)
                } catch let error as ONNXError where error.code == .incompatibleArtifact {
                    reason = error.message
                    logger.info(
                        "ignoring the compiled artifact of model '\(model.model)' version \(model.version): \(error.message); loading model.onnx"
                    )
                } catch {
                    reason = "\(error)"
                    logger.error(
                        "the compiled artifact of model '\(model.model)' version \(model.version) is unusable: \(error); loading model.onnx (run `mscr compile` to replace it)"
                    )
                }
            }
        }
        let (bytes, _) = try model.read("model.onnx")
        let network = try ONNXImporter.load(bytes, batch: batch)
        return Loaded(
            network: network, metadata: try ONNXModelInfo.metadata(bytes), source: .sources, fallbackReason: reason)
    }
}

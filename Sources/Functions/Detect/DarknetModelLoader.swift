import FoundationEssentials
import Inference
import Logging
import ObjectStore

/// Builds a Darknet version's network: from its compiled artifact (`model.compiled`) when the
/// manifest lists one and this build can use it, mapped and verified (docs/formats.md), else
/// from `model.cfg` and `model.weights`. An artifact for another format version or CPU is
/// ignored with a log line; one that fails verification or is malformed is logged as an error
/// and the sources are used: a bad artifact never answers.
package enum DarknetModelLoader {
    /// The artifact's file name in a version.
    package static let artifactName = "model.compiled"
    static let logger = Logger(label: "mscr.functions.darknet")

    /// Where a network came from.
    package enum Source: String, Sendable {
        case artifact
        case sources
    }

    /// A loaded network, where it came from, and why the artifact was not used (if it was not).
    package struct Loaded: Sendable {
        package var network: DarknetNetwork
        package var source: Source
        package var fallbackReason: String?
    }

    /// Loads `model`. `policy.useArtifact == false` (`MSCR_ARTIFACT=off`) skips the artifact. A
    /// mapped network skips the warm-up forward of a source load (its weights are faulted in by
    /// verification, its scratch touched at allocation); `policy.warmUp` runs it anyway.
    package static func load(
        model: ModelVersion, cfgText: String, concurrency: Int, policy: ArtifactPolicy = .current
    ) throws -> Loaded {
        var reason: String?
        if model.manifest.files[artifactName] != nil {
            if !policy.useArtifact {
                reason = "MSCR_ARTIFACT=off"
            } else {
                do {
                    let (bytes, stats) = try model.mapVerified(artifactName)
                    let network = try DarknetArtifact.load(
                        bytes.base, count: bytes.count, owner: bytes, concurrency: concurrency,
                        warmUp: policy.warmUp)
                    logger.info(
                        "model '\(model.model)' version \(model.version): loaded from its compiled artifact (\(bytes.count) bytes, mapped and verified in \(Int(stats.totalSeconds * 1000)) ms)"
                    )
                    return Loaded(network: network, source: .artifact)
                } catch let error as InferenceError where error.code == .incompatibleArtifact {
                    reason = error.message
                    logger.info(
                        "ignoring the compiled artifact of model '\(model.model)' version \(model.version): \(error.message); loading the source files"
                    )
                } catch {
                    reason = "\(error)"
                    logger.error(
                        "the compiled artifact of model '\(model.model)' version \(model.version) is unusable: \(error); loading the source files (run `mscr compile` to replace it)"
                    )
                }
            }
        }
        let darknet = try DarknetConfig(text: cfgText)
        var reader = DarknetWeightsReader(config: darknet)
        try model.stream("model.weights") { chunk in try reader.consume(chunk) }
        let network = try DarknetNetwork(config: darknet, layers: try reader.finish(), concurrency: concurrency)
        return Loaded(network: network, source: .sources, fallbackReason: reason)
    }
}

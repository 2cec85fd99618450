import ArgumentParser
import Common
import FoundationEssentials
import Functions
import Inference
import ONNX
import ObjectStore

/// `mscr compile --repository URI --model NAME [--version N]`: adds the compiled artifact to a
/// published darknet-yolo or onnx version (`ModelRepository.addFile`: artifact first, manifest last).
struct CompileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compile",
        abstract: "Add the compiled artifact (model.compiled) to a published darknet-yolo or onnx version.",
        discussion: """
            Reads model.cfg and model.weights (darknet-yolo) or imports model.onnx (onnx; a stock \
            regressor's graph at the stock function's batch of 64) of the version (verified), lays every weight out as this build runs it (batch-norm \
            folded, Winograd regrouped, GEMM panels packed, page-aligned; docs/formats.md), uploads it as model.compiled, then replaces the version's manifest with one that lists it too \
            (size, sha256 and per-chunk digests). Servers then load the version by mapping that file. A \
            version that already has an identical artifact is left alone; a different one is refused. Prints \
            {"model", "version", "repository", "file", "size", "sha256"} as JSON.
            """)

    static let artifactName = DarknetModelLoader.artifactName

    @Option(help: "Repository URI: a path, file://, s3://bucket/prefix, gs://bucket/prefix.")
    var repository: String?
    @Option(help: "Model name.")
    var model: String
    @Option(help: "Version number (default: the latest).")
    var version: Int?

    func run() throws {
        let repository = try ModelRepository.open(RepositoryOption.resolve(repository))
        let number = try version ?? repository.latestVersion(of: model)
        let resolved = try repository.resolve(model: model, version: String(number))
        let artifact: [UInt8]
        switch resolved.manifest.format {
        case "darknet-yolo":
            let cfg = try resolved.read("model.cfg").bytes
            let weights = try resolved.read("model.weights").bytes
            artifact = try DarknetArtifact.compile(cfg: String(decoding: cfg, as: UTF8.self), weights: weights)
        case "onnx":
            // A stock regressor (with scaler.json) runs its graph at the stock function's batch.
            let regressor = resolved.manifest.files[ONNXStockRegressor.scalerFileName] != nil
            artifact = try ONNXArtifact.compile(
                try resolved.read("model.onnx").bytes, batch: regressor ? ONNXStockRegressor.importBatch : 1)
        default:
            throw ValidationError(
                "model '\(model)' version \(number) is \(resolved.manifest.format); only darknet-yolo and onnx models compile"
            )
        }
        let manifest = try repository.addFile(
            model: model, version: number, name: Self.artifactName, bytes: artifact, chunked: true)
        let entry = manifest.files[Self.artifactName]
        printJSON([
            "model": model.json, "version": number.json, "repository": repository.store.uri.json,
            "file": Self.artifactName.json, "size": (entry?.size ?? 0).json, "sha256": (entry?.sha256 ?? "").json,
        ])
    }
}

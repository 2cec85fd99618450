import ArgumentParser
import Common
import FoundationEssentials
import Functions
import Inference
import ONNX
import ObjectStore

#if canImport(Glibc)
import Glibc
#endif

/// `mscr publish DIR --repository URI --model NAME [--version N]`: a model folder becomes a new
/// committed version (files first, manifest last; never overwrites).
struct PublishCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Publish a model folder as a new version of a model in a repository.",
        discussion: """
            DIR with exactly one *.cfg, one *.weights and one *.names or classes.txt is a darknet-yolo model \
            (published as model.cfg, model.weights, classes.txt); DIR with a model.json (from `mscr train`) is an \
            lstm-regressor model; DIR with a model.onnx (and optionally classes.txt) is an onnx model: it is \
            imported first, so a graph the engine cannot run is refused here, naming the node, its op type and \
            opset; its class names come from classes.txt, else the exporter's metadata (Ultralytics' `names`), \
            else `class N` for a [1, 4+N, boxes] output. A model.onnx with a scaler.json beside it is a stock \
            regressor (the stock function serves it): the scaler (min, max per column, as the original stack's \
            train.py writes it) is published with it and both are checked together. A darknet-yolo model and an \
            onnx model (a stock regressor's graph at the stock function's batch) also get their compiled artifact, model.compiled (the engine's \
            graph with weights in execution layout, loaded by a memory map; docs/formats.md), unless --no-compile. Prints {"model", "version", "format", "repository", "files"} \
            as JSON. The repository defaults to $MSCR_MODEL_REPOSITORY, else ./models.
            """)

    @Argument(help: "The model folder.")
    var directory: String
    @Option(help: "Repository URI: a path, file://, s3://bucket/prefix, gs://bucket/prefix.")
    var repository: String?
    @Option(help: "Model name (letters, digits, '-', '_', '.').")
    var model: String
    @Option(help: "Version number (default: the latest + 1). An existing version is never overwritten.")
    var version: Int?
    @Flag(help: "Do not write the compiled artifact of a darknet-yolo or onnx model.")
    var noCompile = false

    func run() throws {
        let bundle = try ModelBundle.detect(directory: directory)
        let uri = RepositoryOption.resolve(repository)
        let repository = try ModelRepository.open(uri)
        var files = try bundle.readFiles()
        var classes: (count: Int, from: String)?
        var regressor: Report.Regressor?
        if bundle.format == "onnx", let onnx = files["model.onnx"] {
            if let scaler = FileManager.default.contents(atPath: Path.appending(directory, "scaler.json")) {
                files["scaler.json"] = Array(scaler)
                regressor = try Self.checkStockONNX(onnx, scaler: Array(scaler))
            } else {
                classes = try Self.checkONNX(onnx, classes: &files)
            }
        }
        let metrics = files["model.json"].flatMap { ModelBundle.metrics(ofModelJSON: $0) }
        let progress = TerminalProgress()
        if bundle.format == "darknet-yolo", !noCompile, let cfg = files["model.cfg"],
            let weights = files["model.weights"]
        {
            progress.say("compiling \(CompileCommand.artifactName)")
            files[CompileCommand.artifactName] = try DarknetArtifact.compile(
                cfg: String(decoding: cfg, as: UTF8.self), weights: weights)
        }
        if bundle.format == "onnx", !noCompile, let onnx = files["model.onnx"] {
            progress.say("compiling \(CompileCommand.artifactName)")
            files[CompileCommand.artifactName] = try ONNXArtifact.compile(
                onnx, batch: regressor == nil ? 1 : ONNXStockRegressor.importBatch)
        }
        let started = Date()
        let manifest = try repository.publish(
            model: model, version: version, format: bundle.format, files: files, metrics: metrics,
            source: Path.standardized(directory), chunked: [CompileCommand.artifactName],
            progress: { name, size in progress.say("uploading \(name) (\(TerminalProgress.bytes(size)))") })
        progress.say(
            "published \(model) version \(manifest.version) in \(Date().timeIntervalSince(started).fixed(1)) s")
        let report = Report(
            model: model, version: manifest.version, format: manifest.format, repository: repository.store.uri,
            files: manifest.files, classes: classes.map { Report.Classes(count: $0.count, from: $0.from) },
            regressor: regressor)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(report), as: UTF8.self))
    }

    /// What `publish` prints.
    struct Report: Encodable {
        struct Classes: Encodable {
            var count: Int
            /// `classes.txt`, `metadata` or `generated`.
            var from: String
        }
        var model: String
        var version: Int
        var format: String
        var repository: String
        var files: [String: Manifest.File]
        var classes: Classes?
        /// A stock regressor's window and columns (model.onnx with scaler.json).
        struct Regressor: Encodable {
            var window: Int
            var columns: [String]
        }
        var regressor: Regressor?
    }

    /// Imports a stock regressor's graph with its scaler, as the stock function will.
    static func checkStockONNX(_ bytes: [UInt8], scaler: [UInt8]) throws -> Report.Regressor {
        do {
            let regressor = try ONNXStockRegressor(model: bytes, scaler: scaler)
            return Report.Regressor(window: regressor.window, columns: regressor.columns)
        } catch let error as InferenceError {
            throw InferenceError(
                error.code,
                "model.onnx with scaler.json is not a stock regressor the engine can serve: \(error.message)")
        }
    }

    /// Imports `bytes` (so a graph the engine cannot run is refused before anything is uploaded)
    /// and makes sure a classes.txt goes with it when names can be found.
    static func checkONNX(_ bytes: [UInt8], classes files: inout [String: [UInt8]]) throws -> (
        count: Int, from: String
    )? {
        let network = try ONNXImporter.load(bytes)
        if let text = files["classes.txt"] {
            let names = String(decoding: text, as: UTF8.self).split(whereSeparator: \.isNewline).filter { !$0.isEmpty }
            return (names.count, "classes.txt")
        }
        var names: [String]?
        var from = "metadata"
        if let entry = try ONNXModelInfo.metadata(bytes)["names"] {
            names = ONNXModelInfo.classNames(fromNames: entry)
        }
        if names == nil, network.outputs.count == 1, network.outputs[0].shape.count == 3,
            network.outputs[0].shape[1] > 4
        {
            names = (0..<(network.outputs[0].shape[1] - 4)).map { "class \($0)" }
            from = "generated"
        }
        guard let names else { return nil }
        files["classes.txt"] = Array((names.joined(separator: "\n") + "\n").utf8)
        return (names.count, from)
    }
}

/// The `--repository` default shared by the model commands.
enum RepositoryOption {
    /// `option`, else `$MSCR_MODEL_REPOSITORY`, else `./models`.
    static func resolve(_ option: String?) -> String {
        if let option, !option.isEmpty { return option }
        if let env = ProcessInfo.processInfo.environment["MSCR_MODEL_REPOSITORY"], !env.isEmpty { return env }
        return "./models"
    }
}

/// Progress lines on stderr, only when stderr is a terminal.
struct TerminalProgress: Sendable {
    let enabled = isatty(STDERR_FILENO) == 1

    func say(_ line: String) {
        guard enabled else { return }
        StandardStream.writeError(line + "\n")
    }

    static func bytes(_ count: Int) -> String {
        count >= 1 << 20
            ? (Double(count) / 1_048_576).fixed(1) + " MiB"
            : count >= 1 << 10 ? (Double(count) / 1024).fixed(1) + " KiB" : "\(count) bytes"
    }
}

/// Prints `object` as one line of JSON with sorted keys.
func printJSON(_ object: JSONValue) {
    print(object.text())
}

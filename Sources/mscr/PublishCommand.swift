import ArgumentParser
import Common
import FoundationEssentials
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
            lstm-regressor model. Prints {"model", "version", "format", "repository", "files"} as JSON. \
            The repository defaults to $MSCR_MODEL_REPOSITORY, else ./models.
            """)

    @Argument(help: "The model folder.")
    var directory: String
    @Option(help: "Repository URI: a path, file://, s3://bucket/prefix, gs://bucket/prefix.")
    var repository: String?
    @Option(help: "Model name (letters, digits, '-', '_', '.').")
    var model: String
    @Option(help: "Version number (default: the latest + 1). An existing version is never overwritten.")
    var version: Int?

    func run() throws {
        let bundle = try ModelBundle.detect(directory: directory)
        let uri = RepositoryOption.resolve(repository)
        let repository = try ModelRepository.open(uri)
        let files = try bundle.readFiles()
        let metrics = files["model.json"].flatMap { ModelBundle.metrics(ofModelJSON: $0) }
        let progress = TerminalProgress()
        let started = Date()
        let manifest = try repository.publish(
            model: model, version: version, format: bundle.format, files: files, metrics: metrics,
            source: Path.standardized(directory),
            progress: { name, size in progress.say("uploading \(name) (\(TerminalProgress.bytes(size)))") })
        progress.say(
            "published \(model) version \(manifest.version) in \(Date().timeIntervalSince(started).fixed(1)) s")
        var fileObjects: [String: Any] = [:]
        for (name, file) in manifest.files { fileObjects[name] = ["size": file.size, "sha256": file.sha256] }
        printJSON([
            "model": model, "version": manifest.version, "format": manifest.format,
            "repository": repository.store.uri, "files": fileObjects,
        ])
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
func printJSON(_ object: Any) {
    let data = JSON.bytes(object)
    print(String(decoding: data, as: UTF8.self))
}

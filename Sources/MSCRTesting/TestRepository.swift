import FoundationEssentials
internal import ObjectStore

/// A model repository in a temporary folder, for tests: publish a model folder into it and
/// pass ``uri`` to ``FunctionTester``.
public struct TestRepository: Sendable {
    /// The folder holding the repository.
    public let path: String
    /// Its URI (`file:///…`), what `MSCR_MODEL_REPOSITORY` would be.
    public var uri: String { "file://" + path }

    /// An empty repository in a new temporary folder.
    public init() throws {
        path = Self.temporaryPath("mscr-test-repository")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// A new repository holding `folder` published as version 1 of `model`. The folder is read as
    /// `mscr publish` reads it: one `*.cfg`, `*.weights` and `*.names`/`classes.txt` is a
    /// `darknet-yolo` model; a `model.json` an `lstm-regressor`.
    public init(publishing folder: String, as model: String) throws {
        try self.init()
        try publish(folder: folder, as: model)
    }

    /// Publishes `folder` as the next version of `model`; returns the version number.
    @discardableResult
    public func publish(folder: String, as model: String) throws -> Int {
        let bundle = try ModelBundle.detect(directory: folder)
        return try publish(files: try bundle.readFiles(), format: bundle.format, as: model)
    }

    /// Publishes `files` (repository name → bytes) in `format` as the next version of `model`;
    /// returns the version number.
    @discardableResult
    public func publish(files: [String: [UInt8]], format: String, as model: String) throws -> Int {
        try ModelRepository(store: FileObjectStore(root: path)).publish(model: model, format: format, files: files)
            .version
    }

    /// Deletes the folder.
    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// A new path under the temporary directory.
    static func temporaryPath(_ prefix: String) -> String {
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        return (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/\(prefix)-\(UUID().uuidString)"
    }
}

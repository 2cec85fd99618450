package import ObjectStore

/// A model format a function can load: how the files of one repository version become an
/// immutable, in-memory model shared by every request.
///
/// The runtime calls ``init(files:parameters:)`` on its load pool, once per model version
/// (single flight), and only for versions whose manifest `format` is one of ``formats``.
public protocol FunctionModel: Sendable {
    /// The manifest `format` values this type loads, e.g. `["darknet-yolo"]`. A version in any
    /// other format fails to load with a message naming both.
    static var formats: [String] { get }

    /// Loads the model from a version's files. Read them only through `files`: every byte is
    /// checked against the manifest's size and SHA-256 as it arrives.
    init(files: ModelFiles, parameters: FunctionParameters) throws

    /// The memory a load of a version whose files have these sizes (by name) will take, charged
    /// to the runtime's memory budget (`MSCR_MEMORY_LIMIT`) before loading. Default: their sum.
    static func memoryEstimate(fileSizes: [String: Int]) -> Int

    /// The bytes this loaded model holds, when it knows better than ``memoryEstimate(fileSizes:)``
    /// (the budget is then charged this). Default: nil.
    var memoryBytes: Int? { get }
}

extension FunctionModel {
    /// The sum of the file sizes.
    public static func memoryEstimate(fileSizes: [String: Int]) -> Int { fileSizes.values.reduce(0, +) }

    /// nil: the estimate stands.
    public var memoryBytes: Int? { nil }
}

/// The files of one model version in the repository, read with verification.
public struct ModelFiles: Sendable {
    package let model: ModelVersion

    package init(_ model: ModelVersion) {
        self.model = model
    }

    /// The model's name in the repository.
    public var name: String { model.model }
    /// The version number being loaded.
    public var version: Int { model.version }
    /// The manifest's `format` (one of the model type's ``FunctionModel/formats``).
    public var format: String { model.manifest.format }
    /// The names of the version's files, sorted.
    public var fileNames: [String] { model.manifest.files.keys.sorted() }
    /// The size in bytes of `file` as the manifest records it, or nil when the version has no such file.
    public func size(of file: String) -> Int? { model.manifest.files[file]?.size }

    /// Reads a whole file into memory, verified against the manifest.
    public func read(_ file: String) throws -> [UInt8] {
        try model.read(file).bytes
    }

    /// Streams a file in chunks to `consumer` (parse while it downloads), verified against the
    /// manifest; a file that does not match fails after its last chunk.
    public func stream(_ file: String, _ consumer: (UnsafeRawBufferPointer) throws -> Void) throws {
        _ = try model.stream(file, into: consumer)
    }
}

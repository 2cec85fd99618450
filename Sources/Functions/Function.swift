import ObjectStore

/// A kind of function (`tensor`, `detect`, `lstm-regressor`, …): knows how to load a model
/// version into `Loaded`, the immutable value the host keeps and hands to every call of the
/// function (per-call scratch is the value's own business). The host knows nothing of what a
/// call does with it: the runtime decides that (its kinds load values that answer HTTP and V2).
package protocol FunctionKind<Loaded>: Sendable {
    /// What a load makes; shared by every call, so it must be safe to use from several at once.
    associatedtype Loaded: Sendable
    /// The `kind` string of function.json.
    var kind: String { get }
    /// Loads (fetches and parses) a model version. Blocking: the host runs it on its load pool.
    /// Read files only through `model.stream` / `model.read` so they are verified.
    func load(config: FunctionConfig, model: ModelVersion) throws -> Loaded
    /// Bytes `loaded` holds, when the kind knows better than its estimate (for the memory
    /// budget); nil keeps the estimate.
    func memoryBytes(of loaded: Loaded) -> Int?
    /// The memory a load of `manifest` will take, charged to the budget before loading.
    func memoryEstimate(config: FunctionConfig, manifest: Manifest) -> Int
    /// Checks a function.json of this kind at start (its `params`), so a bad value stops the
    /// start instead of failing the first request. Throws an error naming the key.
    func validate(config: FunctionConfig) throws
    /// The kind's tensor signature, known without loading a model (so V2 metadata answers while
    /// the function is cold); nil when the kind has no tensor interface.
    var tensorSignature: TensorSignature? { get }
}

extension FunctionKind {
    /// Accepts every config.
    package func validate(config: FunctionConfig) throws {}

    /// No tensor interface.
    package var tensorSignature: TensorSignature? { nil }

    /// The size of the version's files.
    package func memoryEstimate(config: FunctionConfig, manifest: Manifest) -> Int {
        manifest.files.values.reduce(0) { $0 + $1.size }
    }
}

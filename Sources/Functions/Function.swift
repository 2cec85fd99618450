import Logging
import ObjectStore

/// A request to a function, independent of HTTP: the same value comes from the HTTP layer,
/// the V2 adapter and the CLI.
package struct FunctionRequest: Sendable {
    package var body: [UInt8]
    /// The `Content-Type` header as sent, parameters included: the media type is compared without
    /// case by its readers, a multipart boundary is case-sensitive (browsers send mixed-case ones).
    package var contentType: String?
    /// Query parameters (`format`, `order`, …).
    package var query: [String: String]
    /// The request's logger (trace metadata attached by the transport), if it has one.
    package var logger: Logger?
    /// The trace id of the request (W3C `traceparent` or `X-Cloud-Trace-Context`), if any.
    package var traceID: String?
    /// When the request must have its answer; set by the host.
    package var deadline: ContinuousClock.Instant?
    /// How long this request waited for a model load (nil: warm); set by the host.
    package var coldWaitMs: Double?
    /// The load this request waited for, if any; set by the host.
    package var coldLoad: LoadReport?

    package init(
        body: [UInt8], contentType: String? = nil, query: [String: String] = [:], logger: Logger? = nil,
        traceID: String? = nil
    ) {
        self.body = body
        self.contentType = contentType
        self.query = query
        self.logger = logger
        self.traceID = traceID
    }
}

/// A function's answer. The host adds timing; the runtime turns it into HTTP.
package struct FunctionResponse: Sendable {
    package var body: [UInt8]
    package var contentType: String
    package var status: Int

    package init(body: [UInt8], contentType: String = "application/json", status: Int = 200) {
        self.body = body
        self.contentType = contentType
        self.status = status
    }
}

/// A model loaded into memory and ready to answer: immutable and shared by every request
/// (per-call scratch is the function's business). `invoke` is blocking CPU work: the host
/// runs it on its bounded pool, never on an event loop.
package protocol LoadedFunction: Sendable {
    /// The repository version this instance was loaded from.
    var version: Int { get }
    /// Answers one request.
    func invoke(_ request: FunctionRequest) throws -> FunctionResponse
    /// Bytes the loaded model holds, when the kind knows better than its kind's estimate (for the
    /// memory budget).
    var memoryBytes: Int? { get }
}

extension LoadedFunction {
    package var memoryBytes: Int? { nil }
}

/// A kind of function (`darknet-yolo`, `lstm-regressor`): knows how to load its model.
package protocol FunctionKind: Sendable {
    /// The `kind` string of function.json.
    var kind: String { get }
    /// Loads (fetches and parses) a model version. Blocking: the host runs it on its load pool.
    /// Read files only through `model.stream` / `model.read` so they are verified.
    func load(config: FunctionConfig, model: ModelVersion) throws -> any LoadedFunction
    /// The memory a load of `manifest` will take, charged to the budget before loading.
    func memoryEstimate(config: FunctionConfig, manifest: Manifest) -> Int
    /// Checks a function.json of this kind at start (its `params`), so a bad value stops the
    /// start instead of failing the first request. Throws an error naming the key.
    func validate(config: FunctionConfig) throws
    /// The kind's tensor signature, known without loading a model (so V2 metadata answers while
    /// the function is cold); nil when the kind has no tensor interface.
    var tensorSignature: TensorSignature? { get }
    /// This kind with the forecasts its functions make sent to `observer` (the retraining
    /// monitor); a kind whose functions make none returns itself.
    func observed(by observer: @escaping @Sendable (StockForecastEvent) -> Void) -> any FunctionKind
}

extension FunctionKind {
    /// Itself: its functions make no forecasts.
    package func observed(by observer: @escaping @Sendable (StockForecastEvent) -> Void) -> any FunctionKind {
        self
    }

    /// Accepts every config.
    package func validate(config: FunctionConfig) throws {}

    /// The built-in kinds' signature from the one table (`TensorSignatures`).
    package var tensorSignature: TensorSignature? { TensorSignatures.signature(forKind: kind) }

    /// The size of the version's files.
    package func memoryEstimate(config: FunctionConfig, manifest: Manifest) -> Int {
        manifest.files.values.reduce(0) { $0 + $1.size }
    }
}

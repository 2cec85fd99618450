/// A function the runtime serves: typed input and output, the model format it loads, and a
/// handler that turns one input into one output.
///
/// The runtime does the rest: it reads the function's `function.json` (whose `kind` names
/// ``kind``), fetches and verifies the model version from the repository, loads it once on the
/// first request (single flight), admits requests under the configured concurrency, runs
/// ``handle(_:model:context:)`` on its worker pool under the request deadline, swaps to a newer
/// model version while serving, and measures all of it. It also decodes requests into ``Input``
/// and encodes ``Output``: a function never sees HTTP, content types or query strings.
///
/// ```swift
/// struct CountPeople: InferenceFunction {
///     struct Input: Decodable, Sendable { var image: EncodedImage; var atLeast: Int? }
///     struct Output: Codable, Sendable { var people: Int; var enough: Bool }
///     typealias Model = DetectionModel
///     static let kind = "count-people"
///
///     let threshold: Float
///     init(parameters: FunctionParameters) throws {
///         threshold = try parameters.float("threshold", default: 0.4, in: 0.01...0.99)
///     }
///
///     func handle(_ input: Input, model: DetectionModel, context: FunctionContext) throws -> Output {
///         let people = try model.detect(input.image, threshold: threshold).filter { $0.label == "person" }.count
///         return Output(people: people, enough: people >= (input.atLeast ?? 1))
///     }
/// }
/// ```
///
/// An instance is created once per loaded model version (and once at start, to check
/// `function.json`); it is shared by every request, so keep it immutable.
public protocol InferenceFunction: Sendable {
    /// What a request is decoded into. A field of type ``EncodedImage`` receives an image body
    /// (or a multipart `file` part); the other fields come from the query string. A JSON body is
    /// decoded into `Input` as a whole (images as base64 strings).
    associatedtype Input: Decodable & Sendable
    /// What a response is encoded from (JSON, keys sorted).
    associatedtype Output: Encodable & Sendable
    /// The model the function runs, loaded by the runtime from the repository.
    associatedtype Model: FunctionModel

    /// The name `function.json` uses in its `kind` key to choose this function, e.g.
    /// `"count-people"`. Unique among the functions one server registers.
    static var kind: String { get }

    /// Creates the function from its `function.json` (`params` and `limits`). Throw a
    /// ``FunctionFailure`` (the typed accessors of ``FunctionParameters`` do) for a bad value:
    /// the server refuses to start and names the file and the key.
    init(parameters: FunctionParameters) throws

    /// Answers one request. Runs on the runtime's worker pool (blocking work is fine); throw a
    /// ``FunctionFailure`` for input the function cannot answer.
    func handle(_ input: Input, model: Model, context: FunctionContext) throws -> Output

    /// Which request bodies `Input` is decoded from (default ``InputBody/jsonOrImage``).
    static var inputBody: InputBody { get }
}

extension InferenceFunction {
    /// A JSON body, or an image body with the other fields from the query.
    public static var inputBody: InputBody { .jsonOrImage }
}

/// The request bodies of `POST /functions/<name>` a function's `Input` is decoded from.
public enum InputBody: Sendable, Equatable {
    /// An `application/json` body decoded into `Input` as a whole (images as base64 strings), or
    /// an image body (`image/jpeg`, `image/png`, `application/octet-stream`, no type) or a
    /// multipart `file` part for the ``EncodedImage`` field, every other field from the query.
    case jsonOrImage
    /// Only an image body or a multipart `file` part (any other type, JSON included, is a 415),
    /// every other field from the query. The image is not sniffed before the function runs: the
    /// model's decoder answers for bytes that are not JPEG or PNG.
    case imageOnly
}

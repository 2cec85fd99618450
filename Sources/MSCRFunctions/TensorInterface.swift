internal import Functions

/// A function that also answers the Open Inference Protocol (KServe V2): REST
/// `POST /v2/models/<name>/infer` (JSON and the binary tensor data extension) and gRPC
/// `ModelInfer`, with `GET /v2/models/<name>` reporting its tensors.
///
/// The function declares its input and output tensors and converts between them and its own
/// `Input` and `Output`; the runtime does the rest: it parses the protocol's JSON, binary and
/// protobuf encodings, checks each request's tensors against ``inputTensors`` (names, datatypes,
/// shapes) before anything runs, calls ``input(from:)``, then the same
/// ``InferenceFunction/handle(_:model:context:)`` as `POST /functions/<name>`, then
/// ``outputTensors(from:)``, and encodes the outputs the client asked for (the tensors themselves
/// are declared as a ``TensorHandler``'s). Errors are the
/// protocol's (`{"error": "…"}`, a gRPC status) with the same messages.
///
/// ```swift
/// extension CountPeople: TensorInterface {
///     static let inputTensors = [TensorDescriptor("image", .bytes, [1]), TensorDescriptor("at_least", .int64, [1])]
///     static let outputTensors = [TensorDescriptor("people", .int64, [1]), TensorDescriptor("enough", .bool, [1])]
///
///     func input(from tensors: TensorInputs) throws -> Input {
///         Input(image: try tensors.image("image"), atLeast: Int(try tensors.tensor("at_least").integers()[0]))
///     }
///     func outputTensors(from output: Output) throws -> [NamedTensor] {
///         [try NamedTensor(name: "people", shape: [1], elements: .int64([Int64(output.people)])),
///          try NamedTensor(name: "enough", shape: [1], elements: .bool([output.enough]))]
///     }
/// }
/// ```
public protocol TensorInterface: TensorHandler {
    /// The function's input from a request's tensors, which the runtime has checked against
    /// ``TensorHandler/inputTensors``. Throw ``FunctionFailure`` for values the function cannot take.
    func input(from tensors: TensorInputs) throws -> Input

    /// The tensors of an output: every one of ``TensorHandler/outputTensors``, in order, with its
    /// datatype and a fitting shape (anything else is a bug of the function, a 500).
    func outputTensors(from output: Output) throws -> [NamedTensor]
}

extension TensorInterface {
    /// ``input(from:)``, then the function's ``InferenceFunction/handle(_:model:context:)``, then
    /// ``outputTensors(from:)``.
    public func infer(_ tensors: TensorInputs, model: Model, context: FunctionContext) throws -> [NamedTensor] {
        try outputTensors(from: try handle(try input(from: tensors), model: model, context: context))
    }
}

/// A function that answers the Open Inference Protocol (KServe V2) with its own tensor handler,
/// beside its `POST /functions/<name>` handler: for a function whose V2 operation is not its HTTP
/// one (the stock function forecasts a whole series over HTTP, and predicts the next close of
/// each of a batch of windows over V2). Most functions adopt ``TensorInterface`` instead, which
/// runs the same handler for both.
///
/// The runtime parses the protocol's encodings, checks each request's tensors against
/// ``inputTensors(for:)`` (before a load, against ``inputTensors``: every dimension, or only the
/// names, datatypes and ranks when ``tensorShapesVaryByModel``), calls
/// ``infer(_:model:context:)`` on its worker pool under the request deadline, checks the outputs
/// against ``outputTensors(for:)`` and encodes the ones the client asked for.
public protocol TensorHandler: InferenceFunction {
    /// The inputs a request must send, each exactly once, in the order metadata lists them.
    static var inputTensors: [TensorDescriptor] { get }
    /// The outputs, in order: ``infer(_:model:context:)`` returns exactly these (a client may ask
    /// for a subset).
    static var outputTensors: [TensorDescriptor] { get }

    /// The `platform` metadata reports (default: the function's ``InferenceFunction/kind``).
    static var tensorPlatform: String { get }

    /// Whether a loaded model has its own sizes (``inputTensors(for:)``): then a request is
    /// checked against ``inputTensors`` only for names, datatypes and ranks before the model is
    /// loaded, and metadata reports the serving model's tensors once it is loaded. Default: false.
    static var tensorShapesVaryByModel: Bool { get }

    /// The inputs of a loaded model (default: ``inputTensors``).
    static func inputTensors(for model: Model) -> [TensorDescriptor]
    /// The outputs of a loaded model (default: ``outputTensors``).
    static func outputTensors(for model: Model) -> [TensorDescriptor]

    /// Answers one V2 request: the inputs (checked against ``inputTensors(for:)``) → every one of
    /// ``outputTensors(for:)``, in order. Throw ``FunctionFailure`` for values the function
    /// cannot take.
    func infer(_ tensors: TensorInputs, model: Model, context: FunctionContext) throws -> [NamedTensor]
}

extension TensorHandler {
    /// The function's kind.
    public static var tensorPlatform: String { kind }
    /// False: every model has the declared tensors.
    public static var tensorShapesVaryByModel: Bool { false }
    /// ``inputTensors``.
    public static func inputTensors(for model: Model) -> [TensorDescriptor] { inputTensors }
    /// ``outputTensors``.
    public static func outputTensors(for model: Model) -> [TensorDescriptor] { outputTensors }
}

/// A scalar request parameter of the V2 protocol (`"parameters": {"threshold": 0.5}`).
public enum TensorParameter: Sendable, Equatable {
    /// A JSON boolean.
    case bool(Bool)
    /// A JSON integer.
    case int(Int64)
    /// A JSON number with a fraction.
    case double(Double)
    /// A JSON string.
    case string(String)

    /// The value as a number, when it is one.
    public var number: Double? {
        switch self {
        case .int(let v): Double(v)
        case .double(let v): v
        case .bool, .string: nil
        }
    }
}

/// The inputs of one V2 request: its tensors (checked against the function's
/// ``TensorInterface/inputTensors``) and its request-level `parameters`.
public struct TensorInputs: Sendable {
    /// The input tensors, as sent.
    public var tensors: [NamedTensor]
    /// The request's `parameters` (unknown ones are the function's to ignore or refuse).
    public var parameters: [String: TensorParameter]

    /// Inputs (the runtime makes them per request; tests may make their own).
    public init(tensors: [NamedTensor], parameters: [String: TensorParameter] = [:]) {
        self.tensors = tensors
        self.parameters = parameters
    }

    /// The tensor named `name`; throws `.invalidInput` when the request has none.
    public func tensor(_ name: String) throws -> NamedTensor {
        guard let tensor = tensors.first(where: { $0.name == name }) else {
            throw FunctionFailure.invalidInput("input '\(name)' is missing")
        }
        return tensor
    }

    /// The image in the one `BYTES` element of tensor `name`: the element itself when it is a
    /// JPEG or PNG file (binary data, or base64 with `content_type: base64`), else the base64
    /// text a JSON client sends as a string. Not decoded; a non-image is the function's to refuse
    /// (``DetectionModel`` answers 415).
    public func image(_ name: String) throws -> EncodedImage {
        EncodedImage(bytes: DetectFunction.imagePayload(try tensor(name).singleByteString()))
    }

    /// Request parameter `name` as a number, or nil when absent; throws `.invalidInput` when it
    /// is not a finite number in `range`.
    public func number(_ name: String, in range: Range<Double>) throws -> Double? {
        guard let parameter = parameters[name] else { return nil }
        guard let value = parameter.number, value.isFinite, range.contains(value) else {
            throw FunctionFailure.invalidInput(
                "parameter '\(name)' must be a number in [\(Self.text(range.lowerBound)), \(Self.text(range.upperBound)))"
            )
        }
        return value
    }

    /// `1` for 1.0, `0.5` for 0.5.
    private static func text(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : "\(value)"
    }
}

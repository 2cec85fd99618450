import FoundationEssentials
import Functions
import Logging
import MSCRFunctions
import ObjectStore

/// An ``InferenceFunction`` type as a kind of the function host: the host keeps doing lazy
/// single-flight loads, admission, deadlines, hot swap and metrics; this adapter loads the
/// function's model, and per request decodes the input, calls the handler and encodes the
/// output with the runtime's codecs.
package struct TypedFunctionKind<Function: InferenceFunction>: HostedKind {
    /// The V2 signature when `Function` is a ``TensorInterface``.
    package let tensorSignature: TensorSignature?
    /// Makes the loaded function: a plain one, or one that also speaks tensors.
    let wrap: @Sendable (TypedLoadedFunction<Function>) -> any HostedFunction
    /// Where the function's ``FunctionContext/record(_:)`` goes (the retraining monitor).
    var recorder: (@Sendable (FunctionObservation) -> Void)?

    /// A function without a tensor interface: `POST /functions/<name>` only.
    package init(_ function: Function.Type = Function.self) {
        tensorSignature = nil
        wrap = { $0 }
        recorder = nil
    }

    /// This kind with what its functions record sent to `observer`.
    package func observed(by observer: @escaping @Sendable (FunctionObservation) -> Void) -> any HostedKind {
        var kind = self
        kind.recorder = observer
        return kind
    }

    package var kind: String { Function.kind }

    /// Creates the function from the config once, so that a bad `params` value stops the start.
    package func validate(config: FunctionConfig) throws {
        do {
            _ = try Function(parameters: FunctionParameters(config))
        } catch let failure as FunctionFailure {
            throw FunctionError(.invalidInput, failure.message, underlying: failure)
        }
    }

    /// The model type's estimate for the version's files.
    package func memoryEstimate(config: FunctionConfig, manifest: Manifest) -> Int {
        Function.Model.memoryEstimate(fileSizes: manifest.files.mapValues(\.size))
    }

    package func load(config: FunctionConfig, model: ModelVersion) throws -> any HostedFunction {
        let origin = "model '\(model.model)' version \(model.version)"
        let formats = Function.Model.formats
        guard formats.contains(model.manifest.format) else {
            throw FunctionError(
                .unavailable,
                "\(origin) has format '\(model.manifest.format)', but kind '\(Function.kind)' loads \(formats.joined(separator: ", "))",
                retryAfter: 30)
        }
        let parameters = FunctionParameters(config)
        do {
            let loaded = try Function.Model(files: ModelFiles(model), parameters: parameters)
            let function = try Function(parameters: parameters)
            return wrap(
                TypedLoadedFunction(
                    function: function, model: loaded, config: config, version: model.version, recorder: recorder))
        } catch let failure as FunctionFailure {
            // The runtime's own load errors (a model that does not parse) already say so.
            if let original = failure.underlying as? FunctionError, original.code == .unavailable { throw original }
            throw FunctionError(
                .unavailable, "\(origin) cannot be loaded: \(failure.message)", retryAfter: 30, underlying: failure)
        }
    }
}

extension TypedFunctionKind {
    /// The answer `POST /functions/<name>` gives to `request` from `function` with a model
    /// already loaded (`mscr predict`: the same codecs and handler, without a server).
    package static func answer(
        _ request: FunctionRequest, function: Function, model: Function.Model, config: FunctionConfig, version: Int
    ) throws -> FunctionResponse {
        let call = FunctionCall(
            timing: CallTiming(), deadline: ContinuousClock.now.advanced(by: .seconds(60)), version: version)
        let loaded = TypedLoadedFunction(
            function: function, model: model, config: config, version: version, recorder: nil)
        return try loaded.answer(request, call: call)
    }
}

/// A loaded typed function: the function value and its model, shared by every request.
struct TypedLoadedFunction<Function: InferenceFunction>: HostedFunction {
    let function: Function
    let model: Function.Model
    let config: FunctionConfig
    let version: Int
    /// Hears what the function records (with this function, model and version).
    let recorder: (@Sendable (FunctionObservation) -> Void)?

    /// What the model says it holds.
    var memoryBytes: Int? { model.memoryBytes }

    func answer(_ request: FunctionRequest, call: FunctionCall) throws -> FunctionResponse {
        // An image or chart answer's format is checked before anything is read.
        if Function.Output.self == DetectedImage.self { _ = try TypedCodec.imageFormat(request.query) }
        if Function.Output.self == PriceForecast.self { _ = try TypedCodec.chartFormat(request.query) }
        let input = try TypedCodec.decode(Function.Input.self, from: request, body: Function.inputBody)
        let output = try handle(input, context: context(logger: request.logger, call: call, traceID: request.traceID))
        return try TypedCodec.response(output, query: request.query)
    }

    /// Runs the handler; its failures become the runtime's errors.
    func handle(_ input: Function.Input, context: FunctionContext) throws -> Function.Output {
        do {
            return try function.handle(input, model: model, context: context)
        } catch let failure as FunctionFailure {
            throw failure.functionError
        }
    }

    /// The context of one call (whichever transport it came by).
    func context(logger: Logger?, call: FunctionCall, traceID: String?) -> FunctionContext {
        let logger = RequestTracing.functionLogger(
            logger ?? Logger(label: "mscr.function"), function: config.name, trace: call.trace)
        let coldLoad = call.timing.load
        let cold = call.timing.coldMs.map { wait in
            FunctionContext.ColdStart(
                waitMs: wait, version: coldLoad?.version ?? version, fetchMs: coldLoad?.fetchMs ?? 0,
                parseMs: coldLoad?.parseMs ?? 0, totalMs: coldLoad?.totalMs ?? wait, bytes: coldLoad?.bytes ?? 0)
        }
        var context = FunctionContext(
            logger: logger, functionName: config.name, modelName: config.model, modelVersion: version,
            deadline: call.deadline, coldStart: cold, traceID: traceID)
        if let recorder {
            let (function, model, version) = (config.name, config.model, version)
            context.recorder = { record in
                recorder(FunctionObservation(function: function, model: model, version: version, record: record))
            }
        }
        return context
    }
}

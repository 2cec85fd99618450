import FoundationEssentials
import Functions
import Logging
import MSCRFunctions
import ObjectStore

/// An ``InferenceFunction`` type as a kind of the function host: the host keeps doing lazy
/// single-flight loads, admission, deadlines, hot swap and metrics; this adapter loads the
/// function's model, and per request decodes the input, calls the handler and encodes the
/// output with the runtime's codecs.
package struct TypedFunctionKind<Function: InferenceFunction>: FunctionKind {
    package init(_ function: Function.Type = Function.self) {}

    package var kind: String { Function.kind }

    /// Creates the function from the config once, so that a bad `params` value stops the start.
    package func validate(config: FunctionConfig) throws {
        do {
            _ = try Function(parameters: FunctionParameters(config))
        } catch let failure as FunctionFailure {
            throw FunctionError(.invalidInput, failure.message, underlying: failure)
        }
    }

    package func load(config: FunctionConfig, model: ModelVersion) throws -> any LoadedFunction {
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
            return TypedLoadedFunction(function: function, model: loaded, config: config, version: model.version)
        } catch let failure as FunctionFailure {
            throw FunctionError(
                .unavailable, "\(origin) cannot be loaded: \(failure.message)", retryAfter: 30, underlying: failure)
        }
    }
}

/// A loaded typed function: the function value and its model, shared by every request.
struct TypedLoadedFunction<Function: InferenceFunction>: LoadedFunction {
    let function: Function
    let model: Function.Model
    let config: FunctionConfig
    let version: Int

    func invoke(_ request: FunctionRequest) throws -> FunctionResponse {
        let input = try TypedCodec.decode(Function.Input.self, from: request)
        var logger = request.logger ?? Logger(label: "mscr.function")
        logger[metadataKey: "function"] = .string(config.name)
        let cold = request.coldWaitMs.map { wait in
            FunctionContext.ColdStart(
                waitMs: wait, version: request.coldLoad?.version ?? version, fetchMs: request.coldLoad?.fetchMs ?? 0,
                parseMs: request.coldLoad?.parseMs ?? 0, totalMs: request.coldLoad?.totalMs ?? wait,
                bytes: request.coldLoad?.bytes ?? 0)
        }
        let context = FunctionContext(
            logger: logger, functionName: config.name, modelName: config.model, modelVersion: version,
            deadline: request.deadline ?? ContinuousClock.now.advanced(by: .seconds(60)), coldStart: cold,
            traceID: request.traceID)
        let output: Function.Output
        do {
            output = try function.handle(input, model: model, context: context)
        } catch let failure as FunctionFailure {
            throw failure.functionError
        }
        return FunctionResponse(body: try TypedCodec.encode(output), contentType: "application/json")
    }
}

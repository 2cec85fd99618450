import Functions
import MSCRFunctions

extension TypedFunctionKind where Function: TensorInterface {
    /// A function with a tensor interface: `POST /functions/<name>` and the V2 protocol.
    package init(tensors function: Function.Type = Function.self) {
        tensorSignature = TypedTensorFunction<Function>.signature
        wrap = { TypedTensorFunction(base: $0) }
    }
}

/// A loaded ``TensorInterface`` function: the V2 adapter's `TensorFunction` over the same
/// function value, model and handler as the HTTP route.
struct TypedTensorFunction<Function: TensorInterface>: TensorFunction {
    let base: TypedLoadedFunction<Function>

    /// The function's declared tensors; its kind is the V2 `platform`.
    static var signature: TensorSignature {
        TensorSignature(
            platform: Function.tensorPlatform, inputs: Function.inputTensors.map(\.spec),
            outputs: Function.outputTensors.map(\.spec))
    }

    var version: Int { base.version }
    var memoryBytes: Int? { base.memoryBytes }
    var tensorSignature: TensorSignature { Self.signature }

    func invoke(_ request: FunctionRequest) throws -> FunctionResponse { try base.invoke(request) }

    func infer(_ request: TensorRequest) throws -> [Tensor] {
        do {
            let input = try base.function.input(from: TensorInputs(request))
            let output = try base.handle(
                input,
                context: base.context(
                    logger: request.logger, deadline: request.deadline, coldWaitMs: request.coldWaitMs,
                    coldLoad: request.coldLoad, traceID: nil))
            return try base.function.outputTensors(from: output).map { try $0.runtimeTensor() }
        } catch let failure as FunctionFailure {
            throw failure.functionError
        }
    }
}

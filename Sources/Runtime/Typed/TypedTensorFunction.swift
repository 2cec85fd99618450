import Functions
import MSCRFunctions

extension TypedFunctionKind where Function: TensorHandler {
    /// A function with a tensor handler: `POST /functions/<name>` and the V2 protocol.
    package init(tensors function: Function.Type = Function.self) {
        tensorSignature = TypedTensorFunction<Function>.signature
        wrap = { TypedTensorFunction(base: $0) }
        recorder = nil
    }
}

/// A loaded ``TensorHandler`` function: the V2 adapter's `TensorFunction` over the same function
/// value and model as the HTTP route.
struct TypedTensorFunction<Function: TensorHandler>: HostedFunction, TensorFunction {
    let base: TypedLoadedFunction<Function>

    /// The function's declared tensors (what is checked before a load); its kind is the V2 `platform`.
    static var signature: TensorSignature {
        TensorSignature(
            platform: Function.tensorPlatform, inputs: Function.inputTensors.map(\.spec),
            outputs: Function.outputTensors.map(\.spec), sizesVaryByModel: Function.tensorShapesVaryByModel)
    }

    var memoryBytes: Int? { base.memoryBytes }
    var tensors: (any TensorFunction)? { self }

    /// The loaded model's tensors.
    var tensorSignature: TensorSignature {
        TensorSignature(
            platform: Function.tensorPlatform, inputs: Function.inputTensors(for: base.model).map(\.spec),
            outputs: Function.outputTensors(for: base.model).map(\.spec),
            sizesVaryByModel: Function.tensorShapesVaryByModel)
    }

    func answer(_ request: FunctionRequest, call: FunctionCall) throws -> FunctionResponse {
        try base.answer(request, call: call)
    }

    func infer(_ request: TensorRequest, call: FunctionCall) throws -> [Tensor] {
        do {
            let context = base.context(logger: request.logger, call: call, traceID: nil)
            return try base.function.infer(TensorInputs(request), model: base.model, context: context)
                .map { try $0.runtimeTensor() }
        } catch let failure as FunctionFailure {
            throw failure.functionError
        }
    }
}

import Functions
import ObjectStore

/// A kind whose models have a tensor interface only (`tensor`, the ONNX graphs; the V2 test
/// kind), as a kind of the runtime: V2 serves it, and `POST /functions/<name>` answers 415 with
/// where to send tensors instead.
package struct TensorKind<Base: FunctionKind>: HostedKind where Base.Loaded: TensorFunction {
    let base: Base

    package init(_ base: Base) { self.base = base }

    package var kind: String { base.kind }
    package var tensorSignature: TensorSignature? { base.tensorSignature }

    package func load(config: FunctionConfig, model: ModelVersion) throws -> any HostedFunction {
        let loaded = try base.load(config: config, model: model)
        return Hosted(model: loaded, memoryBytes: base.memoryBytes(of: loaded))
    }

    package func memoryEstimate(config: FunctionConfig, manifest: Manifest) -> Int {
        base.memoryEstimate(config: config, manifest: manifest)
    }

    package func validate(config: FunctionConfig) throws { try base.validate(config: config) }

    struct Hosted: HostedFunction {
        let model: Base.Loaded
        let memoryBytes: Int?

        var tensors: (any TensorFunction)? { model }

        func answer(_ request: FunctionRequest, call: FunctionCall) throws -> FunctionResponse {
            let inputs = model.tensorSignature.inputs
            let types = Set(inputs.map(\.datatype.rawValue))
            let typed = types.count == 1 ? types.sorted().joined() + " tensors" : "tensors"
            throw FunctionError(
                .unsupportedMediaType,
                "a tensor function answers the Open Inference Protocol: POST /v2/models/<name>/infer with \(typed) named \(inputs.map(\.name))"
            )
        }
    }
}

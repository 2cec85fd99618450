import Logging

/// A request parameter of the tensor API (V2 `parameters`): a JSON scalar.
package enum TensorParameter: Sendable, Equatable {
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)

    /// The value as a number, if it is one.
    package var number: Double? {
        switch self {
        case .int(let v): return Double(v)
        case .double(let v): return v
        case .bool, .string: return nil
        }
    }
}

/// One typed inference: named input tensors and the request's parameters.
package struct TensorRequest: Sendable {
    /// The input tensors, as sent.
    package var inputs: [Tensor]
    /// Request-level parameters (e.g. `threshold` for detect); unknown ones are ignored.
    package var parameters: [String: TensorParameter]
    /// The request's logger (trace metadata attached by the transport), if it has one.
    package var logger: Logger?

    package init(inputs: [Tensor], parameters: [String: TensorParameter] = [:]) {
        self.inputs = inputs
        self.parameters = parameters
    }

    /// The input named `name` (invalid input when absent).
    package func input(_ name: String) throws -> Tensor {
        guard let tensor = inputs.first(where: { $0.name == name }) else {
            throw FunctionError(.invalidInput, "input '\(name)' is missing")
        }
        return tensor
    }
}

/// A loaded model with a tensor interface: named tensors in, named tensors out (the runtime's V2
/// protocol adapter calls it). `infer` is blocking CPU work: the host runs it on its pool.
package protocol TensorFunction: Sendable {
    /// The inputs and outputs of this loaded model. It may refine its kind's static signature
    /// (`FunctionKind.tensorSignature`), e.g. the window length of a stock model.
    var tensorSignature: TensorSignature { get }
    /// Runs one inference on inputs already checked against `tensorSignature`, for the host's
    /// `call`; returns every output of the signature, in its order.
    func infer(_ request: TensorRequest, call: FunctionCall) throws -> [Tensor]
}

extension TensorFunction {
    /// Checks the inputs against the signature, infers, and checks that the outputs are the
    /// declared ones (a mismatch there is a bug: `internal`).
    package func run(_ request: TensorRequest, call: FunctionCall) throws -> [Tensor] {
        let signature = tensorSignature
        try signature.check(inputs: request.inputs)
        let outputs = try infer(request, call: call)
        guard outputs.map(\.name) == signature.outputs.map(\.name) else {
            throw FunctionError(
                .internal, "the model returned outputs \(outputs.map(\.name)), not \(signature.outputs.map(\.name))")
        }
        for (tensor, spec) in zip(outputs, signature.outputs) {
            do {
                try signature.check(tensor, against: spec, what: "output")
            } catch let error as FunctionError {
                throw FunctionError(.internal, "the model broke its signature: \(error.message)")
            }
        }
        return outputs
    }
}

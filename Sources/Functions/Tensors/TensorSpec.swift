/// The name, datatype and shape of one input or output of a model; `-1` in a shape is a
/// dimension of any size.
package struct TensorSpec: Sendable, Equatable {
    /// The input or output name.
    package var name: String
    /// The element type.
    package var datatype: TensorDataType
    /// Dimension sizes; -1 is any size.
    package var shape: [Int]

    /// A spec: `TensorSpec("close", .fp32, [-1, 1])`.
    package init(_ name: String, _ datatype: TensorDataType, _ shape: [Int]) {
        self.name = name
        self.datatype = datatype
        self.shape = shape
    }

    /// Whether `shape` fits this spec: same rank and, when `dimensions`, equal sizes where the
    /// spec is not -1.
    package func accepts(shape: [Int], dimensions: Bool = true) -> Bool {
        guard shape.count == self.shape.count else { return false }
        for (want, got) in zip(self.shape, shape) where got < 0 || (dimensions && want >= 0 && want != got) {
            return false
        }
        return true
    }
}

/// What a model takes and returns, as the V2 metadata endpoint reports it.
package struct TensorSignature: Sendable, Equatable {
    /// The V2 `platform` string (mscr reports the function kind).
    package var platform: String
    /// What the model takes, in order.
    package var inputs: [TensorSpec]
    /// What the model returns, in order.
    package var outputs: [TensorSpec]
    /// Whether a loaded model may have other fixed sizes than this (static) signature, e.g. a
    /// stock model trained with another window: then only names, datatypes and ranks can be
    /// checked before the model is loaded.
    package var sizesVaryByModel: Bool
    /// Whether the kind has no signature of its own and the loaded model's is the only one (an
    /// ONNX graph): then nothing can be checked before the model is loaded.
    package var definedByModel: Bool

    package init(
        platform: String, inputs: [TensorSpec], outputs: [TensorSpec], sizesVaryByModel: Bool = false,
        definedByModel: Bool = false
    ) {
        self.platform = platform
        self.inputs = inputs
        self.outputs = outputs
        self.sizesVaryByModel = sizesVaryByModel || definedByModel
        self.definedByModel = definedByModel
    }

    /// Checks that `inputs` are exactly the declared inputs, each once, with the declared
    /// datatype and a fitting shape (only its rank unless `dimensions`: a loaded model may
    /// refine sizes of the static signature). Throws `invalidInput` naming the tensor.
    package func check(inputs given: [Tensor], dimensions: Bool = true) throws {
        var seen = Set<String>()
        for tensor in given {
            guard let spec = inputs.first(where: { $0.name == tensor.name }) else {
                throw FunctionError(
                    .invalidInput,
                    "unknown input '\(tensor.name)' (the model takes: \(inputs.map(\.name).joined(separator: ", ")))")
            }
            guard seen.insert(tensor.name).inserted else {
                throw FunctionError(.invalidInput, "input '\(tensor.name)' is given more than once")
            }
            try check(tensor, against: spec, what: "input", dimensions: dimensions)
        }
        for spec in inputs where !seen.contains(spec.name) {
            throw FunctionError(.invalidInput, "input '\(spec.name)' is missing")
        }
    }

    /// Checks one tensor's datatype and shape against its spec.
    package func check(_ tensor: Tensor, against spec: TensorSpec, what: String, dimensions: Bool = true) throws {
        guard tensor.datatype == spec.datatype else {
            throw FunctionError(
                .invalidInput,
                "\(what) '\(spec.name)' has datatype \(tensor.datatype.rawValue), the model takes \(spec.datatype.rawValue)"
            )
        }
        guard spec.accepts(shape: tensor.shape, dimensions: dimensions) else {
            throw FunctionError(
                .invalidInput, "\(what) '\(spec.name)' has shape \(tensor.shape), the model takes \(spec.shape)")
        }
    }

    /// The spec of output `name`, if the model has one.
    package func output(_ name: String) -> TensorSpec? { outputs.first { $0.name == name } }

    /// The spec of input `name`, if the model takes one.
    package func input(_ name: String) -> TensorSpec? { inputs.first { $0.name == name } }
}

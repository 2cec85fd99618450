package import Functions

// The runtime's tensors and the public ones, both ways (the runtime's codecs work on its own).

extension TensorDatatype {
    /// The runtime's datatype.
    package var runtime: TensorDataType {
        switch self {
        case .bool: .bool
        case .uint8: .uint8
        case .int32: .int32
        case .int64: .int64
        case .fp32: .fp32
        case .fp64: .fp64
        case .bytes: .bytes
        }
    }
}

extension TensorDescriptor {
    /// The runtime's spec.
    package var spec: TensorSpec { TensorSpec(name, datatype.runtime, shape) }
}

extension NamedTensor {
    /// A runtime tensor as a public one (the element count already matches its shape).
    package init(_ tensor: Tensor) {
        let elements: Elements
        switch tensor.data {
        case .bool(let v): elements = .bool(v)
        case .uint8(let v): elements = .uint8(v)
        case .int32(let v): elements = .int32(v)
        case .int64(let v): elements = .int64(v)
        case .fp32(let v): elements = .fp32(v)
        case .fp64(let v): elements = .fp64(v)
        case .bytes(let v): elements = .bytes(v)
        }
        self.name = tensor.name
        self.shape = tensor.shape
        self.elements = elements
    }

    /// The runtime's tensor.
    package func runtimeTensor() throws -> Tensor {
        let data: TensorData
        switch elements {
        case .bool(let v): data = .bool(v)
        case .uint8(let v): data = .uint8(v)
        case .int32(let v): data = .int32(v)
        case .int64(let v): data = .int64(v)
        case .fp32(let v): data = .fp32(v)
        case .fp64(let v): data = .fp64(v)
        case .bytes(let v): data = .bytes(v)
        }
        return try Tensor(name: name, shape: shape, data: data)
    }
}

extension TensorInputs {
    /// A runtime request's inputs and parameters.
    package init(_ request: TensorRequest) {
        var parameters: [String: TensorParameter] = [:]
        for (key, value) in request.parameters {
            switch value {
            case .bool(let b): parameters[key] = .bool(b)
            case .int(let i): parameters[key] = .int(i)
            case .double(let d): parameters[key] = .double(d)
            case .string(let s): parameters[key] = .string(s)
            }
        }
        self.init(tensors: request.inputs.map(NamedTensor.init), parameters: parameters)
    }
}

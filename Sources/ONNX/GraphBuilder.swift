import Inference
import InferenceKernels

/// A tensor while importing: known now (folded), or computed at run time in a buffer.
enum ImportValue {
    case constant(ConstantTensor)
    case runtime(buffer: Int, shape: [Int])

    var shape: [Int] {
        switch self {
        case .constant(let c): return c.shape
        case .runtime(_, let shape): return shape
        }
    }
}

/// The importer's state: the value of every tensor name so far, the buffers and the steps.
struct GraphBuilder {
    /// Op types of the default domain we import (validated before anything else).
    static let supportedOps: Set<String> = [
        "Conv", "BatchNormalization", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Exp", "Softplus", "Neg", "Sqrt", "Abs",
        "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Concat", "Split", "Slice", "MaxPool", "Resize", "Reshape",
        "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Softmax", "MatMul", "Expand", "Identity", "Dropout", "Cast",
        "Constant", "Shape", "Gather", "Range", "ConstantOfShape", "Gemm", "LSTM",
    ]

    let opset: Int
    /// The size a symbolic batch dimension (axis 0 of a graph input) is imported at.
    let batch: Int
    var values: [String: ImportValue] = [:]
    var bufferSizes: [Int] = []
    /// Sum of `bufferSizes`.
    var totalFloats = 0
    var constantBuffers: [Int: [Float]] = [:]
    var steps: [Step] = []
    var inputs: [ONNXTensorInfo] = []
    /// How many nodes (and graph outputs) read each tensor name.
    var readers: [String: Int] = [:]
    var opCounts: [String: Int] = [:]
    /// Step writing each buffer.
    var producer: [Int: Int] = [:]

    init(opset: Int, graph: Onnx_GraphProto, batch: Int = 1) {
        self.opset = opset
        self.batch = batch
        for node in graph.node {
            opCounts[node.opType, default: 0] += 1
            for input in node.input where !input.isEmpty { readers[input, default: 0] += 1 }
        }
        for output in graph.output { readers[output.name, default: 0] += 1 }
    }

    mutating func addInitializers(_ tensors: [Onnx_TensorProto]) throws {
        for t in tensors {
            values[t.name] = .constant(try TensorDecoding.decode(t, what: "initializer '\(t.name)'"))
        }
    }

    mutating func addInputs(_ infos: [Onnx_ValueInfoProto]) throws {
        for info in infos where values[info.name] == nil {
            guard case .tensorType(let type)? = info.type.value else {
                throw ONNXError(.unsupported, "graph input '\(info.name)' is not a tensor")
            }
            guard type.elemType == TensorDecoding.DataType.float.rawValue else {
                throw ONNXError(
                    .unsupported,
                    "graph input '\(info.name)' has element type \(type.elemType); only float32 (1) inputs are supported"
                )
            }
            guard type.hasShape else {
                throw ONNXError(
                    .unsupported, "graph input '\(info.name)' has no shape; export with a fixed input shape")
            }
            var shape: [Int] = []
            for (axis, dim) in type.shape.dim.enumerated() {
                switch dim.value {
                case .dimValue(let v)? where v > 0 && v <= 1 << 20: shape.append(Int(v))
                case .dimParam? where axis == 0, nil where axis == 0: shape.append(batch)  // a symbolic batch
                default:
                    throw ONNXError(
                        .unsupported,
                        "graph input '\(info.name)' dimension \(axis) is \(dim.value.map { "\($0)" } ?? "unknown"): only fixed positive sizes (and a symbolic batch) are supported; export with a fixed input size"
                    )
                }
            }
            let buffer = try newBuffer(shape, "graph input '\(info.name)'")
            values[info.name] = .runtime(buffer: buffer, shape: shape)
            inputs.append(ONNXTensorInfo(name: info.name, shape: shape, buffer: buffer))
        }
    }

    /// Most elements all constants folded at import may hold together (2^26: 256 MiB of floats),
    /// so a small file cannot make the importer itself allocate without bound.
    static let maxFoldedElements = 1 << 26
    /// Elements of every constant folded so far.
    var foldedElements = 0

    /// Most floats all of a graph's buffers may take together (4 GiB), so a small hostile file
    /// cannot make every call allocate without bound.
    static let maxTotalFloats = 1 << 30

    /// A new run-time buffer for a tensor of `shape`.
    mutating func newBuffer(_ shape: [Int], _ what: String) throws -> Int {
        guard let count = Shapes.count(shape) else {
            throw ONNXError(.invalidModel, "\(what) would have shape \(shape), more than 2^31 elements: refusing it")
        }
        totalFloats += count
        guard totalFloats <= Self.maxTotalFloats else {
            throw ONNXError(
                .unsupported,
                "\(what) (shape \(shape)) takes the graph's tensors past \(Self.maxTotalFloats / (1 << 28)) GiB per call: refusing it"
            )
        }
        bufferSizes.append(count)
        return bufferSizes.count - 1
    }

    /// The buffer and shape of `value`, putting a float constant into a constant buffer.
    mutating func runtime(_ value: ImportValue, _ what: String) throws -> (buffer: Int, shape: [Int]) {
        switch value {
        case .runtime(let buffer, let shape): return (buffer, shape)
        case .constant(let c):
            guard !c.isInteger else {
                throw ONNXError(
                    .unsupported,
                    "\(what) is an integer tensor computed at run time; only float32 tensors are supported there")
            }
            let buffer = try newBuffer(c.shape, what)
            constantBuffers[buffer] = c.floats
            return (buffer, c.shape)
        }
    }

    /// Appends `step`, recording it as the producer of `outputs`.
    mutating func append(_ step: Step, writes outputs: [Int]) {
        for b in outputs { producer[b] = steps.count }
        steps.append(step)
    }

    /// Fuses activations into convolutions, builds the kernels and returns the network.
    mutating func finish(outputs names: [String]) throws -> ONNXNetwork {
        var outputs: [ONNXTensorInfo] = []
        for name in names {
            guard let value = values[name] else {
                throw ONNXError(.invalidModel, "graph output '\(name)' is never computed")
            }
            let (buffer, shape) = try runtime(value, "graph output '\(name)'")
            outputs.append(ONNXTensorInfo(name: name, shape: shape, buffer: buffer))
        }
        Fusion.fuseActivations(&steps, outputs: outputs.map(\.buffer))
        let views = InPlaceLayout.apply(
            &steps, bufferSizes: bufferSizes, fixed: Set(inputs.map(\.buffer)).union(constantBuffers.keys))
        var final: [Step] = []
        for step in steps {
            guard case .pendingConv(let spec) = step else {
                final.append(step)
                continue
            }
            let kernel = try ConvKernel(spec)
            final.append(.conv(kernel))
            if let r = spec.residual, kernel.residual == nil {
                // This kernel cannot add as it stores: add afterwards, in place.
                let shape = [1, spec.filters, spec.outHeight, spec.outWidth]
                final.append(
                    .binary(.add, a: spec.output, aShape: shape, b: r, bShape: shape, output: spec.output, shape: shape)
                )
            }
        }
        let counts = opCounts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map {
            (op: $0.key, count: $0.value)
        }
        return ONNXNetwork(
            inputs: inputs, outputs: outputs, opCounts: counts, opset: opset, steps: final, bufferSizes: bufferSizes,
            constants: ConstantStore(constantBuffers), views: views)
    }
}

/// Attribute access on a node.
extension Onnx_NodeProto {
    func attribute(_ name: String) -> Onnx_AttributeProto? { attribute.first { $0.name == name } }
    func int(_ name: String, _ fallback: Int) -> Int { attribute(name).map { Int($0.i) } ?? fallback }
    func float(_ name: String, _ fallback: Float) -> Float { attribute(name).map(\.f) ?? fallback }
    func ints(_ name: String) -> [Int]? { attribute(name).map { $0.ints.map { Int($0) } } }
    func string(_ name: String, _ fallback: String) -> String {
        attribute(name).map { String(decoding: $0.s, as: UTF8.self) } ?? fallback
    }
    /// "node 'name' (Op)", for messages.
    var label: String { "node '\(name)' (\(opType))" }
}

import ONNX
import ObjectStore

/// `tensor`: any ONNX graph the engine imports, with the graph's own input and output names and
/// shapes, FP32: a tensor interface only (the runtime serves it through the Open Inference
/// Protocol, `/v2/models/<function>/infer`). The model version must be of format `onnx`
/// (`mscr publish` of a folder with a `model.onnx`).
package struct ONNXTensorKind: FunctionKind {
    /// The `kind` string of function.json.
    package static let kindName = "tensor"
    /// Before a model is loaded the kind knows no names or shapes: the graph defines them.
    package static let staticSignature = TensorSignature(
        platform: "onnx", inputs: [], outputs: [], sizesVaryByModel: true, definedByModel: true)

    package var kind: String { Self.kindName }

    package var tensorSignature: TensorSignature? { Self.staticSignature }

    package init() {}

    package func load(config: FunctionConfig, model: ModelVersion) throws -> Loaded {
        let origin = "model '\(model.model)' version \(model.version)"
        guard model.manifest.format == "onnx" else {
            throw FunctionError(
                .unavailable,
                "\(origin) is of format '\(model.manifest.format)'; kind 'tensor' serves 'onnx' models (publish a folder with a model.onnx)",
                retryAfter: 30)
        }
        do {
            return Loaded(version: model.version, network: try ONNXModelLoader.load(model: model).network)
        } catch let error as ONNXError {
            throw FunctionError(
                .unavailable, "\(origin) cannot be loaded: \(error.message)", retryAfter: 30, underlying: error)
        }
    }

    /// The graph's size is its files' (the estimate).
    package func memoryBytes(of loaded: Loaded) -> Int? { nil }

    /// A loaded graph: immutable and shared; each call takes its scratch from the network's pool.
    package struct Loaded: TensorFunction {
        package let version: Int
        let network: ONNXNetwork

        package var tensorSignature: TensorSignature {
            TensorSignature(
                platform: "onnx",
                inputs: network.inputs.map { TensorSpec($0.name, .fp32, $0.shape) },
                outputs: network.outputs.map { TensorSpec($0.name, .fp32, $0.shape) })
        }

        package func infer(_ request: TensorRequest, call: FunctionCall) throws -> [Tensor] {
            var feeds: [String: [Float]] = [:]
            for input in network.inputs {
                guard case .fp32(let values) = try request.input(input.name).data else {
                    throw FunctionError(.invalidInput, "input '\(input.name)' must be FP32")
                }
                feeds[input.name] = values
            }
            let outputs: [[Float]]
            do {
                outputs = try network.run(feeds)
            } catch let error as ONNXError {
                throw FunctionError(.invalidInput, error.message, underlying: error)
            }
            return try zip(network.outputs, outputs).map { info, values in
                try Tensor(name: info.name, shape: info.shape, data: .fp32(values))
            }
        }
    }
}

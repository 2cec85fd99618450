import FoundationEssentials
import Functions
import SwiftProtobuf

/// A gRPC `ModelInferRequest` as the V2 service's request: the same checks as the REST body's
/// (`V2InferRequest.decode`), with the tensor data from `raw_input_contents` (one entry per
/// input, in the binary tensor data encoding) or each input's typed `contents`.
enum GRPCInferRequest {
    /// Decodes the protobuf message; bytes that are not a `ModelInferRequest` are an invalid argument.
    static func message(_ bytes: ArraySlice<UInt8>) throws -> Inference_ModelInferRequest {
        try GRPCInferenceService.decode(Inference_ModelInferRequest.self, bytes)
    }

    /// The V2 request of a decoded message; every lie (a shape that does not match the data,
    /// contents of another datatype, a raw entry per input missing) is `invalidInput`.
    static func decode(_ message: Inference_ModelInferRequest) throws -> V2InferRequest {
        let inputs = message.inputs
        guard !inputs.isEmpty, inputs.count <= V2InferRequest.maxTensors else {
            throw FunctionError(
                .invalidInput, "'inputs' must have 1 to \(V2InferRequest.maxTensors) tensors, not \(inputs.count)")
        }
        let raw = message.rawInputContents
        guard raw.isEmpty || raw.count == inputs.count else {
            throw FunctionError(
                .invalidInput,
                "raw_input_contents has \(raw.count) entries but the request has \(inputs.count) inputs (one each, or none)"
            )
        }
        var tensors: [Tensor] = []
        for (i, input) in inputs.enumerated() {
            tensors.append(try tensor(input, raw: raw.isEmpty ? nil : raw[i]))
        }
        guard message.outputs.count <= V2InferRequest.maxTensors else {
            throw FunctionError(.invalidInput, "'outputs' must have at most \(V2InferRequest.maxTensors) tensors")
        }
        var outputs: [V2InferRequest.RequestedOutput] = []
        for wanted in message.outputs {
            guard !outputs.contains(where: { $0.name == wanted.name }) else {
                throw FunctionError(.invalidInput, "output '\(wanted.name)' is requested twice")
            }
            let parameters = try Self.parameters(wanted.parameters, what: "output '\(wanted.name)'")
            if let p = parameters["classification"], p != .int(0) {
                throw FunctionError(
                    .invalidInput, "output '\(wanted.name)': the classification extension is not supported")
            }
            outputs.append(.init(name: wanted.name, binary: true))
        }
        return V2InferRequest(
            id: message.id.isEmpty ? nil : message.id,
            tensors: TensorRequest(
                inputs: tensors, parameters: try Self.parameters(message.parameters, what: "the request")),
            outputs: outputs.isEmpty ? nil : outputs, binaryOutput: true)
    }

    static func parameters(_ map: [String: Inference_InferParameter], what: String) throws -> [String: TensorParameter]
    {
        var out: [String: TensorParameter] = [:]
        for (key, value) in map {
            switch value.parameterChoice {
            case .boolParam(let b): out[key] = .bool(b)
            case .int64Param(let i): out[key] = .int(i)
            case .stringParam(let s): out[key] = .string(s)
            case .doubleParam(let d): out[key] = .double(d)
            case .uint64Param(let u):
                guard let i = Int64(exactly: u) else {
                    throw FunctionError(.invalidInput, "parameter '\(key)' of \(what) is out of range")
                }
                out[key] = .int(i)
            case nil: throw FunctionError(.invalidInput, "parameter '\(key)' of \(what) has no value")
            }
        }
        return out
    }

    static func tensor(_ input: Inference_ModelInferRequest.InferInputTensor, raw: Data?) throws -> Tensor {
        let name = input.name
        guard !name.isEmpty else { throw FunctionError(.invalidInput, "each input needs a non-empty name") }
        guard let datatype = TensorDataType(rawValue: input.datatype) else {
            throw FunctionError(
                .invalidInput,
                "input '\(name)' has unknown datatype '\(input.datatype)' (one of \(TensorDataType.allCases.map(\.rawValue).joined(separator: ", ")))"
            )
        }
        guard input.shape.count <= V2InferRequest.maxRank,
            input.shape.allSatisfy({ $0 >= 0 && $0 <= Int64(Int32.max) })
        else {
            throw FunctionError(
                .invalidInput,
                "input '\(name)' needs a shape of at most \(V2InferRequest.maxRank) non-negative sizes, not \(input.shape)"
            )
        }
        let shape = input.shape.map { Int($0) }
        guard let count = Tensor.elementCount(shape) else {
            throw FunctionError(.invalidInput, "input '\(name)' has shape \(shape), whose element count overflows")
        }
        let data: TensorData
        if let raw {
            guard !input.hasContents else {
                throw FunctionError(
                    .invalidInput, "input '\(name)' has both typed contents and an entry in raw_input_contents")
            }
            data = try V2TensorCoding.decodeBinary(
                bytes: [UInt8](raw), datatype: datatype, count: count, name: name, shape: shape)
        } else {
            data = try contents(input.contents, datatype: datatype, name: name)
        }
        return try Tensor(name: name, shape: shape, data: data)
    }

    /// The typed contents field of `datatype`; values in any other field are a wrong datatype.
    static func contents(_ c: Inference_InferTensorContents, datatype: TensorDataType, name: String) throws
        -> TensorData
    {
        let fields: [(String, Int)] = [
            ("bool_contents", c.boolContents.count), ("int_contents", c.intContents.count),
            ("int64_contents", c.int64Contents.count), ("uint_contents", c.uintContents.count),
            ("uint64_contents", c.uint64Contents.count), ("fp32_contents", c.fp32Contents.count),
            ("fp64_contents", c.fp64Contents.count), ("bytes_contents", c.bytesContents.count),
        ]
        let field: String
        let data: TensorData
        switch datatype {
        case .bool: (field, data) = ("bool_contents", TensorData.bool(c.boolContents))
        case .uint8:
            guard c.uintContents.allSatisfy({ $0 <= 255 }) else {
                throw FunctionError(.invalidInput, "input '\(name)' (UINT8): an element of uint_contents is over 255")
            }
            (field, data) = ("uint_contents", TensorData.uint8(c.uintContents.map { UInt8($0) }))
        case .int32: (field, data) = ("int_contents", TensorData.int32(c.intContents))
        case .int64: (field, data) = ("int64_contents", TensorData.int64(c.int64Contents))
        case .fp32: (field, data) = ("fp32_contents", TensorData.fp32(c.fp32Contents))
        case .fp64: (field, data) = ("fp64_contents", TensorData.fp64(c.fp64Contents))
        case .bytes: (field, data) = ("bytes_contents", TensorData.bytes(c.bytesContents.map { Array($0) }))
        default: throw V2TensorCoding.unsupported(datatype, name: name)
        }
        if let other = fields.first(where: { $0.0 != field && $0.1 > 0 }) {
            throw FunctionError(
                .invalidInput,
                "input '\(name)' is \(datatype.rawValue), whose values go in \(field), but it has \(other.0)")
        }
        return data
    }
}

/// The gRPC infer request decoder as other modules see it (the fuzz targets): decodes the
/// message bytes and checks them exactly as `ModelInfer` does before any model runs.
package enum GRPCRequestParser {
    /// Throws `FunctionError(.invalidInput)` for every message the call would refuse as an
    /// invalid argument; returns the number of inputs.
    @discardableResult
    package static func decode(message: [UInt8]) throws -> Int {
        try GRPCInferRequest.decode(GRPCInferRequest.message(message[...])).tensors.inputs.count
    }

    /// Same, for a whole request body (the 5-byte gRPC frame, then the message).
    @discardableResult
    package static func decode(body: [UInt8]) throws -> Int {
        let message: ArraySlice<UInt8>
        do {
            message = try GRPCFraming.unaryMessage(body, limit: 64 << 20)
        } catch {
            throw FunctionError(.invalidInput, error.message)
        }
        return try decode(message: Array(message))
    }

    /// A message in its gRPC frame.
    package static func framed(_ message: [UInt8]) -> [UInt8] {
        Array(GRPCFraming.frame(message).readableBytesView)
    }

    /// Valid `ModelInferRequest` messages: stock's window as fp32 contents and as raw contents
    /// with a requested output, detect's image as one BYTES element with a parameter.
    package static var exampleMessages: [[UInt8]] {
        let window = (0..<10).map { Float($0) + 0.5 }
        var typed = Inference_ModelInferRequest()
        typed.modelName = "stock"
        typed.id = "1"
        typed.inputs = [
            .with {
                $0.name = "window"
                $0.datatype = "FP32"
                $0.shape = [1, 2, 5]
                $0.contents.fp32Contents = window
            }
        ]
        var raw = typed
        raw.inputs[0].clearContents()
        raw.rawInputContents = [Data(V2TensorCoding.encodeBinary(.fp32(window)))]
        raw.outputs = [.with { $0.name = "close" }]
        var detect = Inference_ModelInferRequest()
        detect.modelName = "detect"
        detect.parameters["threshold"] = .with { $0.parameterChoice = .doubleParam(0.5) }
        detect.inputs = [
            .with {
                $0.name = "image"
                $0.datatype = "BYTES"
                $0.shape = [1]
            }
        ]
        detect.rawInputContents = [Data(V2TensorCoding.encodeBinary(.bytes([[0xFF, 0xD8, 0xFF, 0xD9]])))]
        return [typed, raw, detect].compactMap { try? GRPCInferenceService.bytes($0) }
    }
}

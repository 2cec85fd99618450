import Common
import FoundationEssentials
import Functions

/// A decoded `POST /v2/models/{name}/infer` body: the JSON header and, with the binary tensor
/// data extension, the binary section after it (`Inference-Header-Content-Length` bytes of
/// JSON, then each input's `binary_data_size` bytes in input order).
struct V2InferRequest: Sendable {
    /// An output the client asked for, and whether it wants it binary (nil: the request default).
    struct RequestedOutput: Sendable, Equatable {
        var name: String
        var binary: Bool?
    }

    var id: String?
    var tensors: TensorRequest
    /// The outputs asked for, in order; nil asks for every output.
    var outputs: [RequestedOutput]?
    /// `parameters.binary_data_output`: outputs are binary unless they say otherwise.
    var binaryOutput: Bool

    /// Most tensors in a request (inputs, and outputs asked for).
    static let maxTensors = 64
    /// Highest rank of an input shape.
    static let maxRank = 16

    /// Decodes and checks a request body. `headerLength` is the `Inference-Header-Content-Length`
    /// header; without it the whole body is JSON (whatever its `Content-Type`, as the Triton
    /// client sends none). Every lie (a shape that does not match the data, a size that does not
    /// match the binary section, a value of the wrong type) is `invalidInput`.
    static func decode(body: [UInt8], headerLength: String?) throws -> V2InferRequest {
        var jsonEnd = body.count
        if let headerLength {
            guard let n = Int(headerLength.trimmed), n >= 0, n <= body.count else {
                throw FunctionError(
                    .invalidInput,
                    "Inference-Header-Content-Length must be a byte count within the body of \(body.count) bytes, not '\(headerLength)'"
                )
            }
            jsonEnd = n
        }
        let root = try JSONValue.parseRequest(body[0..<jsonEnd])
        guard case .object = root else { throw FunctionError(.invalidInput, "the request must be a JSON object") }
        var id: String?
        if let value = root["id"] {
            guard case .string(let s) = value else { throw FunctionError(.invalidInput, "'id' must be a string") }
            id = s
        }
        let parameters = try Self.parameters(root["parameters"], what: "the request")
        var binaryOutput = false
        if let p = parameters["binary_data_output"] {
            guard case .bool(let b) = p else {
                throw FunctionError(.invalidInput, "parameter 'binary_data_output' must be a boolean")
            }
            binaryOutput = b
        }
        let requestBase64 = try Self.isBase64(parameters["content_type"], what: "the request")
        guard case .array(let inputValues)? = root["inputs"] else {
            throw FunctionError(.invalidInput, "'inputs' must be an array of tensors")
        }
        guard !inputValues.isEmpty, inputValues.count <= maxTensors else {
            throw FunctionError(
                .invalidInput, "'inputs' must have 1 to \(maxTensors) tensors, not \(inputValues.count)")
        }
        var binary = body[jsonEnd...]
        var inputs: [Tensor] = []
        for value in inputValues {
            inputs.append(try input(value, binary: &binary, base64: requestBase64))
        }
        guard binary.isEmpty else {
            throw FunctionError(
                .invalidInput,
                "the binary section has \(body.count - jsonEnd) bytes but the inputs' binary_data_size add up to \(body.count - jsonEnd - binary.count)"
            )
        }
        return V2InferRequest(
            id: id, tensors: TensorRequest(inputs: inputs, parameters: parameters),
            outputs: try outputs(root["outputs"]), binaryOutput: binaryOutput)
    }

    /// `parameters`: an object of booleans, numbers and strings.
    static func parameters(_ value: JSONValue?, what: String) throws -> [String: TensorParameter] {
        guard let value else { return [:] }
        guard case .object(let members) = value else {
            throw FunctionError(.invalidInput, "'parameters' of \(what) must be an object")
        }
        var out: [String: TensorParameter] = [:]
        for (key, v) in members {
            switch v {
            case .bool(let b): out[key] = .bool(b)
            case .number(let d, let i): out[key] = i.map { .int($0) } ?? .double(d)
            case .string(let s): out[key] = .string(s)
            default:
                throw FunctionError(
                    .invalidInput,
                    "parameter '\(key)' of \(what) must be a boolean, number or string, not \(v.typeName)")
            }
        }
        return out
    }

    /// Whether `content_type` says base64 (the only content type mscr knows; others are refused).
    static func isBase64(_ parameter: TensorParameter?, what: String) throws -> Bool {
        guard let parameter else { return false }
        guard case .string(let s) = parameter, s.lowercased() == "base64" else {
            throw FunctionError(.invalidInput, "parameter 'content_type' of \(what) may only be \"base64\"")
        }
        return true
    }

    static func input(_ value: JSONValue, binary: inout ArraySlice<UInt8>, base64: Bool) throws -> Tensor {
        guard case .object = value else { throw FunctionError(.invalidInput, "each input must be an object") }
        guard case .string(let name)? = value["name"], !name.isEmpty else {
            throw FunctionError(.invalidInput, "each input needs a non-empty string 'name'")
        }
        guard case .string(let typeName)? = value["datatype"] else {
            throw FunctionError(.invalidInput, "input '\(name)' needs a string 'datatype'")
        }
        guard let datatype = TensorDataType(rawValue: typeName) else {
            throw FunctionError(
                .invalidInput,
                "input '\(name)' has unknown datatype '\(typeName)' (one of \(TensorDataType.allCases.map(\.rawValue).joined(separator: ", ")))"
            )
        }
        guard case .array(let dims)? = value["shape"], dims.count <= maxRank else {
            throw FunctionError(.invalidInput, "input '\(name)' needs a 'shape': an array of at most \(maxRank) sizes")
        }
        var shape: [Int] = []
        for d in dims {
            guard case .number(_, let i?) = d, i >= 0, i <= Int64(Int32.max) else {
                throw FunctionError(
                    .invalidInput, "input '\(name)' has a shape with a size that is not a non-negative integer")
            }
            shape.append(Int(i))
        }
        guard let count = Tensor.elementCount(shape) else {
            throw FunctionError(.invalidInput, "input '\(name)' has shape \(shape), whose element count overflows")
        }
        let parameters = try Self.parameters(value["parameters"], what: "input '\(name)'")
        let tensorBase64 = try Self.isBase64(parameters["content_type"], what: "input '\(name)'")
        let data: TensorData
        if let sizeParameter = parameters["binary_data_size"] {
            guard case .int(let size64) = sizeParameter, size64 >= 0 else {
                throw FunctionError(.invalidInput, "input '\(name)': binary_data_size must be a non-negative integer")
            }
            guard value["data"] == nil else {
                throw FunctionError(.invalidInput, "input '\(name)' has both 'data' and binary_data_size")
            }
            guard size64 <= Int64(binary.count) else {
                throw FunctionError(
                    .invalidInput,
                    "input '\(name)' says binary_data_size \(size64) but only \(binary.count) binary bytes are left")
            }
            let size = Int(size64)
            let chunk = binary.prefix(size)
            binary = binary.dropFirst(size)
            data = try V2TensorCoding.decodeBinary(chunk, datatype: datatype, count: count, name: name, shape: shape)
        } else {
            guard let json = value["data"] else {
                throw FunctionError(.invalidInput, "input '\(name)' has neither 'data' nor binary_data_size")
            }
            data = try V2TensorCoding.decodeJSON(
                json, datatype: datatype, name: name, base64: base64 || tensorBase64)
        }
        return try Tensor(name: name, shape: shape, data: data)
    }

    static func outputs(_ value: JSONValue?) throws -> [RequestedOutput]? {
        guard let value else { return nil }
        guard case .array(let items) = value, items.count <= maxTensors else {
            throw FunctionError(.invalidInput, "'outputs' must be an array of at most \(maxTensors) objects")
        }
        var out: [RequestedOutput] = []
        for item in items {
            guard case .object = item, case .string(let name)? = item["name"] else {
                throw FunctionError(.invalidInput, "each requested output needs a string 'name'")
            }
            guard !out.contains(where: { $0.name == name }) else {
                throw FunctionError(.invalidInput, "output '\(name)' is requested twice")
            }
            let parameters = try Self.parameters(item["parameters"], what: "output '\(name)'")
            var binary: Bool?
            if let p = parameters["binary_data"] {
                guard case .bool(let b) = p else {
                    throw FunctionError(.invalidInput, "output '\(name)': binary_data must be a boolean")
                }
                binary = b
            }
            if let p = parameters["classification"], p != .int(0) {
                throw FunctionError(.invalidInput, "output '\(name)': the classification extension is not supported")
            }
            out.append(RequestedOutput(name: name, binary: binary))
        }
        return out
    }
}

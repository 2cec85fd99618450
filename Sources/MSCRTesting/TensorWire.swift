internal import Common
import FoundationEssentials
public import MSCRFunctions

/// The V2 wire format as a client writes requests and reads answers: written here from the
/// protocol's description, not with the runtime's codecs, so a test compares two implementations.
enum TensorWire {
    /// A request body, and the JSON header's length when `binary`.
    static func request(
        _ inputs: [NamedTensor], parameters: [String: TensorParameter], outputs: [String]?, binary: Bool
    ) -> (body: [UInt8], headerLength: Int?) {
        var section: [UInt8] = []
        var inputValues: [JSONValue] = []
        for tensor in inputs {
            var members: [(String, JSONValue)] = [
                ("name", .string(tensor.name)), ("datatype", .string(tensor.datatype.rawValue)),
                ("shape", .array(tensor.shape.map { .number(Double($0), Int64($0)) })),
            ]
            if binary {
                let bytes = binaryElements(tensor.elements)
                section += bytes
                members.append(
                    ("parameters", .object([("binary_data_size", .number(Double(bytes.count), Int64(bytes.count)))])))
            } else {
                if case .bytes = tensor.elements {
                    members.append(("parameters", .object([("content_type", .string("base64"))])))
                }
                members.append(("data", .array(jsonElements(tensor.elements))))
            }
            inputValues.append(.object(members))
        }
        var root: [(String, JSONValue)] = [("inputs", .array(inputValues))]
        var requestParameters = parameters.sorted { $0.key < $1.key }.map { ($0.key, json($0.value)) }
        if binary { requestParameters.append(("binary_data_output", .bool(true))) }
        if !requestParameters.isEmpty { root.append(("parameters", .object(requestParameters))) }
        if let outputs {
            root.append(("outputs", .array(outputs.map { .object([("name", .string($0))]) })))
        }
        let header = JSONValue.object(root).bytes()
        return binary ? (header + section, header.count) : (header, nil)
    }

    static func json(_ parameter: TensorParameter) -> JSONValue {
        switch parameter {
        case .bool(let b): .bool(b)
        case .int(let i): .number(Double(i), i)
        case .double(let d): .number(d, nil)
        case .string(let s): .string(s)
        }
    }

    static func jsonElements(_ elements: NamedTensor.Elements) -> [JSONValue] {
        switch elements {
        case .bool(let v): v.map { .bool($0) }
        case .uint8(let v): v.map { .number(Double($0), Int64($0)) }
        case .int32(let v): v.map { .number(Double($0), Int64($0)) }
        case .int64(let v): v.map { .number(Double($0), $0) }
        case .fp32(let v): v.map { .number(Double($0), nil) }
        case .fp64(let v): v.map { .number($0, nil) }
        case .bytes(let v): v.map { .string(Data($0).base64EncodedString()) }
        }
    }

    static func binaryElements(_ elements: NamedTensor.Elements) -> [UInt8] {
        var out: [UInt8] = []
        func append<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        switch elements {
        case .bool(let v): out = v.map { $0 ? 1 : 0 }
        case .uint8(let v): out = v
        case .int32(let v): v.forEach { append($0) }
        case .int64(let v): v.forEach { append($0) }
        case .fp32(let v): v.forEach { append($0.bitPattern) }
        case .fp64(let v): v.forEach { append($0.bitPattern) }
        case .bytes(let v):
            for element in v {
                append(UInt32(element.count))
                out += element
            }
        }
        return out
    }

    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    static func datatype(_ value: JSONValue?) throws -> TensorDatatype {
        guard let name = value?.stringValue, let type = TensorDatatype(rawValue: name) else {
            throw Malformed(description: "unknown datatype \(String(describing: value))")
        }
        return type
    }

    static func shape(_ value: JSONValue?) throws -> [Int] {
        guard let dims = value?.elements else { throw Malformed(description: "no shape") }
        return try dims.map { d in
            guard let i = d.intValue else { throw Malformed(description: "a shape size is not an integer") }
            return i
        }
    }

    /// The outputs of an infer answer.
    static func outputs(_ body: [UInt8], headerLength: Int?) throws -> [NamedTensor] {
        let jsonEnd = headerLength ?? body.count
        guard jsonEnd <= body.count else { throw Malformed(description: "header length past the body") }
        let root = try JSONValue.parse(body[0..<jsonEnd])
        guard let items = root["outputs"]?.elements else { throw Malformed(description: "no outputs") }
        var binary = body[jsonEnd...]
        return try items.map { item in
            guard let name = item["name"]?.stringValue else { throw Malformed(description: "an output without a name") }
            let type = try datatype(item["datatype"])
            let shape = try shape(item["shape"])
            if let size = item["parameters"]?["binary_data_size"]?.intValue {
                guard size <= binary.count else { throw Malformed(description: "binary section too short") }
                let chunk = Array(binary.prefix(size))
                binary = binary.dropFirst(size)
                return try NamedTensor(name: name, shape: shape, elements: fromBinary(chunk, type))
            }
            guard let data = item["data"]?.elements else { throw Malformed(description: "output \(name) has no data") }
            return try NamedTensor(name: name, shape: shape, elements: fromJSON(data, type))
        }
    }

    static func fromJSON(_ data: [JSONValue], _ type: TensorDatatype) throws -> NamedTensor.Elements {
        func number(_ v: JSONValue) throws -> Double {
            guard let d = v.doubleValue else { throw Malformed(description: "not a number: \(v.typeName)") }
            return d
        }
        switch type {
        case .bool:
            return .bool(
                try data.map { v in
                    guard let b = v.boolValue else { throw Malformed(description: "not a boolean") }
                    return b
                })
        case .uint8: return .uint8(try data.map { UInt8(try number($0)) })
        case .int32: return .int32(try data.map { Int32(try number($0)) })
        case .int64: return .int64(try data.map { Int64(try number($0)) })
        case .fp32: return .fp32(try data.map { Float(try number($0)) })
        case .fp64: return .fp64(try data.map(number))
        case .bytes:
            return .bytes(
                try data.map { v in
                    guard let s = v.stringValue else { throw Malformed(description: "not a string") }
                    return Array(s.utf8)
                })
        }
    }

    static func fromBinary(_ bytes: [UInt8], _ type: TensorDatatype) throws -> NamedTensor.Elements {
        func words<T: FixedWidthInteger>(_: T.Type) -> [T] {
            stride(from: 0, to: bytes.count - MemoryLayout<T>.size + 1, by: MemoryLayout<T>.size).map { offset in
                bytes[offset..<(offset + MemoryLayout<T>.size)].reversed().reduce(T(0)) { $0 << 8 | T($1) }
            }
        }
        switch type {
        case .bool: return .bool(bytes.map { $0 != 0 })
        case .uint8: return .uint8(bytes)
        case .int32: return .int32(words(UInt32.self).map { Int32(bitPattern: $0) })
        case .int64: return .int64(words(UInt64.self).map { Int64(bitPattern: $0) })
        case .fp32: return .fp32(words(UInt32.self).map { Float(bitPattern: $0) })
        case .fp64: return .fp64(words(UInt64.self).map { Double(bitPattern: $0) })
        case .bytes:
            var out: [[UInt8]] = []
            var offset = 0
            while offset + 4 <= bytes.count {
                let length = bytes[offset..<(offset + 4)].reversed().reduce(0) { $0 << 8 | Int($1) }
                offset += 4
                guard offset + length <= bytes.count else { throw Malformed(description: "BYTES element cut off") }
                out.append(Array(bytes[offset..<(offset + length)]))
                offset += length
            }
            return .bytes(out)
        }
    }

    /// `GET /v2/models/<name>`'s body.
    static func metadata(_ body: [UInt8]) throws -> TensorTestMetadata {
        let root = try JSONValue.parse(body)
        func descriptors(_ key: String) throws -> [TensorDescriptor] {
            try (root[key]?.elements ?? []).map { item in
                TensorDescriptor(
                    item["name"]?.stringValue ?? "", try datatype(item["datatype"]), try shape(item["shape"]))
            }
        }
        return TensorTestMetadata(
            name: root["name"]?.stringValue ?? "",
            versions: (root["versions"]?.elements ?? []).compactMap(\.stringValue),
            platform: root["platform"]?.stringValue ?? "", inputs: try descriptors("inputs"),
            outputs: try descriptors("outputs"))
    }
}

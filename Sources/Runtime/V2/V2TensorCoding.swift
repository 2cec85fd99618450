import Common
import Functions

/// Tensor elements to and from the protocol's two encodings: JSON arrays (flat or nested,
/// row-major) and the binary tensor data extension (little-endian fixed-size elements; `BYTES`
/// as a 4-byte little-endian length, then the bytes, per element).
enum V2TensorCoding {
    // MARK: JSON

    /// The elements of a JSON `data` array (nested arrays are flattened in order). Each element
    /// must have the JSON type of `datatype`: numbers in range for numeric types (integers for
    /// integer types), booleans for `BOOL`, strings for `BYTES` (base64 when `base64`).
    static func decodeJSON(_ value: JSONValue, datatype: TensorDataType, name: String, base64: Bool) throws
        -> TensorData
    {
        guard case .array = value else {
            throw FunctionError(.invalidInput, "input '\(name)': 'data' must be an array")
        }
        var flat: [JSONValue] = []
        flatten(value, into: &flat)
        func bad(_ i: Int, _ what: String) -> FunctionError {
            FunctionError(
                .invalidInput,
                "input '\(name)' (\(datatype.rawValue)): element \(i) is \(flat[i].typeName), not \(what)")
        }
        func integer(_ i: Int, in range: ClosedRange<Int64>) throws -> Int64 {
            guard case .number(let d, let exact) = flat[i] else { throw bad(i, "an integer") }
            let v: Int64
            if let exact {
                v = exact
            } else if d == d.rounded(), abs(d) < 9.007_199_254_740_992e15 {
                v = Int64(d)
            } else {
                throw bad(i, "an integer")
            }
            guard range.contains(v) else {
                throw FunctionError(
                    .invalidInput, "input '\(name)' (\(datatype.rawValue)): element \(i) (\(v)) is out of range")
            }
            return v
        }
        switch datatype {
        case .fp32:
            return .fp32(
                try flat.indices.map { i in
                    guard case .number(let d, _) = flat[i] else { throw bad(i, "a number") }
                    let f = Float(d)
                    guard f.isFinite else {
                        throw FunctionError(
                            .invalidInput, "input '\(name)' (FP32): element \(i) is out of the FP32 range")
                    }
                    return f
                })
        case .fp64:
            return .fp64(
                try flat.indices.map { i in
                    guard case .number(let d, _) = flat[i] else { throw bad(i, "a number") }
                    return d
                })
        case .int32:
            return .int32(try flat.indices.map { Int32(try integer($0, in: Int64(Int32.min)...Int64(Int32.max))) })
        case .int64:
            return .int64(try flat.indices.map { try integer($0, in: Int64.min...Int64.max) })
        case .uint8:
            return .uint8(try flat.indices.map { UInt8(try integer($0, in: 0...255)) })
        case .bool:
            return .bool(
                try flat.indices.map { i in
                    guard case .bool(let b) = flat[i] else { throw bad(i, "a boolean") }
                    return b
                })
        case .bytes:
            return .bytes(
                try flat.indices.map { i in
                    guard case .string(let s) = flat[i] else { throw bad(i, "a string") }
                    guard base64 else { return Array(s.utf8) }
                    guard let decoded = TensorBase64.decode(Array(s.utf8)) else {
                        throw FunctionError(.invalidInput, "input '\(name)': element \(i) is not valid base64")
                    }
                    return decoded
                })
        default:
            throw unsupported(datatype, name: name)
        }
    }

    private static func flatten(_ value: JSONValue, into out: inout [JSONValue]) {
        if case .array(let items) = value {
            for item in items { flatten(item, into: &out) }
        } else {
            out.append(value)
        }
    }

    static func unsupported(_ datatype: TensorDataType, name: String) -> FunctionError {
        let supported = TensorDataType.allCases.filter(\.isSupported).map(\.rawValue).joined(separator: ", ")
        return FunctionError(
            .invalidInput, "input '\(name)': datatype \(datatype.rawValue) is not supported (mscr takes \(supported))")
    }

    // MARK: Binary

    /// The elements of one input's binary chunk; `count` is the element count of its shape.
    static func decodeBinary(
        _ chunk: ArraySlice<UInt8>, datatype: TensorDataType, count: Int, name: String, shape: [Int]
    ) throws -> TensorData {
        try decodeBinary(bytes: Array(chunk), datatype: datatype, count: count, name: name, shape: shape)
    }

    /// ``decodeBinary(_:datatype:count:name:shape:)`` of a chunk already in its own array (a
    /// gRPC raw input: no second copy).
    static func decodeBinary(
        bytes: [UInt8], datatype: TensorDataType, count: Int, name: String, shape: [Int]
    ) throws -> TensorData {
        if let size = datatype.elementSize {
            let (expected, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow, expected == bytes.count else {
                throw FunctionError(
                    .invalidInput,
                    "input '\(name)' has shape \(shape) (\(count) \(datatype.rawValue) elements of \(size) bytes) but binary_data_size \(bytes.count)"
                )
            }
        }
        switch datatype {
        case .fp32: return .fp32((0..<count).map { Float(bitPattern: UInt32(littleEndian: load(bytes, $0 * 4))) })
        case .fp64: return .fp64((0..<count).map { Double(bitPattern: UInt64(littleEndian: load(bytes, $0 * 8))) })
        case .int32: return .int32((0..<count).map { Int32(littleEndian: load(bytes, $0 * 4)) })
        case .int64: return .int64((0..<count).map { Int64(littleEndian: load(bytes, $0 * 8)) })
        case .uint8: return .uint8(bytes)
        case .bool:
            guard bytes.allSatisfy({ $0 <= 1 }) else {
                throw FunctionError(.invalidInput, "input '\(name)' (BOOL): binary elements must be bytes 0 or 1")
            }
            return .bool(bytes.map { $0 == 1 })
        case .bytes:
            var elements: [[UInt8]] = []
            var offset = 0
            while offset < bytes.count {
                guard elements.count < count else {
                    throw FunctionError(
                        .invalidInput,
                        "input '\(name)' has shape \(shape) (\(count) elements) but its binary data holds more")
                }
                guard bytes.count - offset >= 4 else {
                    throw FunctionError(.invalidInput, "input '\(name)' (BYTES): a length prefix is cut off")
                }
                let length = Int(UInt32(littleEndian: load(bytes, offset)))
                offset += 4
                guard length <= bytes.count - offset else {
                    throw FunctionError(
                        .invalidInput,
                        "input '\(name)' (BYTES): element \(elements.count) says \(length) bytes but \(bytes.count - offset) are left"
                    )
                }
                elements.append(Array(bytes[offset..<(offset + length)]))
                offset += length
            }
            guard elements.count == count else {
                throw FunctionError(
                    .invalidInput,
                    "input '\(name)' has shape \(shape) (\(count) elements) but its binary data holds \(elements.count)"
                )
            }
            return .bytes(elements)
        default:
            throw unsupported(datatype, name: name)
        }
    }

    private static func load<T: FixedWidthInteger>(_ bytes: [UInt8], _ offset: Int) -> T {
        bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
    }

    /// The binary encoding of `data`.
    static func encodeBinary(_ data: TensorData) -> [UInt8] {
        var out: [UInt8] = []
        func append<T: FixedWidthInteger>(_ v: T) {
            withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
        }
        switch data {
        case .fp32(let v):
            out.reserveCapacity(v.count * 4)
            for x in v { append(x.bitPattern) }
        case .fp64(let v):
            out.reserveCapacity(v.count * 8)
            for x in v { append(x.bitPattern) }
        case .int32(let v):
            out.reserveCapacity(v.count * 4)
            for x in v { append(x) }
        case .int64(let v):
            out.reserveCapacity(v.count * 8)
            for x in v { append(x) }
        case .uint8(let v): out = v
        case .bool(let v): out = v.map { $0 ? 1 : 0 }
        case .bytes(let v):
            for element in v {
                append(UInt32(truncatingIfNeeded: element.count))
                out.append(contentsOf: element)
            }
        }
        return out
    }

    /// The JSON array of `data` (flat). Non-finite floats and non-UTF-8 `BYTES` cannot be JSON:
    /// they fail, and the client can ask for the output binary instead.
    static func encodeJSON(_ data: TensorData, name: String) throws -> String {
        func finite<F: BinaryFloatingPoint & LosslessStringConvertible>(_ v: [F]) throws -> String {
            guard v.allSatisfy(\.isFinite) else {
                throw FunctionError(
                    .unprocessable,
                    "output '\(name)' has NaN or infinity, which JSON cannot carry; ask for it with binary_data")
            }
            return "[" + v.map { $0.description }.joined(separator: ",") + "]"
        }
        switch data {
        case .fp32(let v): return try finite(v)
        case .fp64(let v): return try finite(v)
        case .int32(let v): return "[" + v.map(String.init).joined(separator: ",") + "]"
        case .int64(let v): return "[" + v.map(String.init).joined(separator: ",") + "]"
        case .uint8(let v): return "[" + v.map(String.init).joined(separator: ",") + "]"
        case .bool(let v): return "[" + v.map { $0 ? "true" : "false" }.joined(separator: ",") + "]"
        case .bytes(let v):
            return try "["
                + v.map { element in
                    guard let s = String(validating: element, as: UTF8.self) else {
                        throw FunctionError(
                            .unprocessable, "output '\(name)' is not UTF-8 text; ask for it with binary_data")
                    }
                    return V2Response.quote(s)
                }.joined(separator: ",") + "]"
        }
    }
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Turns a `TensorProto` (an initializer or a `Constant`'s value) into a `ConstantTensor`,
/// refusing external data, impossible dims and data whose size does not match the dims.
enum TensorDecoding {
    /// ONNX `TensorProto.DataType` codes we read.
    enum DataType: Int32 {
        case float = 1
        case uint8 = 2
        case int8 = 3
        case int16 = 5
        case int32 = 6
        case int64 = 7
        case bool = 9
        case double = 11

        var byteWidth: Int {
            switch self {
            case .uint8, .int8, .bool: return 1
            case .int16: return 2
            case .float, .int32: return 4
            case .int64, .double: return 8
            }
        }
    }

    /// Checked dims of a tensor named `what`.
    static func dims(_ raw: [Int64], _ what: String) throws -> [Int] {
        guard raw.count <= 8 else {
            throw ONNXError(.unsupported, "\(what) has rank \(raw.count); at most 8 is supported")
        }
        guard raw.allSatisfy({ $0 >= 0 }) else {
            throw ONNXError(.invalidModel, "\(what) has a negative dimension \(raw): the file is corrupt")
        }
        let dims = raw.map { Int($0) }
        guard Shapes.count(dims) != nil else {
            throw ONNXError(.invalidModel, "\(what) has dimensions \(raw), more than 2^31 elements: refusing it")
        }
        return dims
    }

    static func decode(_ t: Onnx_TensorProto, what: String) throws -> ConstantTensor {
        if t.dataLocation == .external || !t.externalData.isEmpty {
            throw ONNXError(
                .unsupported,
                "\(what) keeps its data in an external file, which is not supported: save the model with all tensors inside the .onnx file"
            )
        }
        guard t.hasSegment == false else {
            throw ONNXError(.unsupported, "\(what) is a segmented tensor, which is not supported")
        }
        let shape = try dims(t.dims, what)
        let count = Shapes.count(shape)!
        guard let type = DataType(rawValue: t.dataType) else {
            throw ONNXError(
                .unsupported,
                "\(what) has data type \(t.dataType), which is not supported (float, double, int8/16/32/64, uint8, bool are)"
            )
        }
        if !t.rawData.isEmpty {
            guard t.rawData.count == count * type.byteWidth else {
                throw ONNXError(
                    .invalidModel,
                    "\(what) declares \(shape) (\(count) elements of \(type.byteWidth) bytes) but holds \(t.rawData.count) bytes: the file is corrupt"
                )
            }
            return t.rawData.withUnsafeBytes { raw in fromRaw(raw, type, shape, count) }
        }
        func check(_ n: Int) throws {
            guard n == count else {
                throw ONNXError(
                    .invalidModel,
                    "\(what) declares \(shape) (\(count) elements) but holds \(n) values: the file is corrupt")
            }
        }
        switch type {
        case .float:
            try check(t.floatData.count)
            return ConstantTensor(shape: shape, floats: t.floatData)
        case .double:
            try check(t.doubleData.count)
            return ConstantTensor(shape: shape, floats: t.doubleData.map { Float($0) })
        case .int64:
            try check(t.int64Data.count)
            return ConstantTensor(shape: shape, ints: t.int64Data.map { Int($0) })
        case .int32, .int16, .int8, .uint8, .bool:
            try check(t.int32Data.count)
            return ConstantTensor(shape: shape, ints: t.int32Data.map { Int($0) })
        }
    }

    private static func fromRaw(_ raw: UnsafeRawBufferPointer, _ type: DataType, _ shape: [Int], _ count: Int)
        -> ConstantTensor
    {
        func load<T: FixedWidthInteger>(_: T.Type, _ i: Int) -> T {
            T(littleEndian: raw.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self))
        }
        switch type {
        case .float:
            return ConstantTensor(shape: shape, floats: (0..<count).map { Float(bitPattern: load(UInt32.self, $0)) })
        case .double:
            return ConstantTensor(
                shape: shape, floats: (0..<count).map { Float(Double(bitPattern: load(UInt64.self, $0))) })
        case .int64: return ConstantTensor(shape: shape, ints: (0..<count).map { Int(load(Int64.self, $0)) })
        case .int32: return ConstantTensor(shape: shape, ints: (0..<count).map { Int(load(Int32.self, $0)) })
        case .int16: return ConstantTensor(shape: shape, ints: (0..<count).map { Int(load(Int16.self, $0)) })
        case .int8: return ConstantTensor(shape: shape, ints: (0..<count).map { Int(load(Int8.self, $0)) })
        case .uint8, .bool: return ConstantTensor(shape: shape, ints: (0..<count).map { Int(load(UInt8.self, $0)) })
        }
    }
}

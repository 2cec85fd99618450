/// The elements of a tensor, flat and row-major, in one of the supported element types.
package enum TensorData: Sendable, Equatable {
    case bool([Bool])
    case uint8([UInt8])
    case int32([Int32])
    case int64([Int64])
    case fp32([Float])
    case fp64([Double])
    /// `BYTES`: one byte string per element.
    case bytes([[UInt8]])

    /// Number of elements.
    package var count: Int {
        switch self {
        case .bool(let v): return v.count
        case .uint8(let v): return v.count
        case .int32(let v): return v.count
        case .int64(let v): return v.count
        case .fp32(let v): return v.count
        case .fp64(let v): return v.count
        case .bytes(let v): return v.count
        }
    }

    /// The protocol datatype of these elements.
    package var datatype: TensorDataType {
        switch self {
        case .bool: return .bool
        case .uint8: return .uint8
        case .int32: return .int32
        case .int64: return .int64
        case .fp32: return .fp32
        case .fp64: return .fp64
        case .bytes: return .bytes
        }
    }
}

/// A named tensor: shape and flat row-major data whose element count matches the shape.
package struct Tensor: Sendable, Equatable {
    /// The input or output name.
    package let name: String
    /// Sizes of the dimensions (non-negative; their product is the element count).
    package let shape: [Int]
    /// The elements, flat and row-major.
    package let data: TensorData

    /// Fails (invalid input) when a dimension is negative, the element count overflows, or the
    /// data does not have exactly as many elements as the shape says.
    package init(name: String, shape: [Int], data: TensorData) throws {
        guard let count = Tensor.elementCount(shape) else {
            throw FunctionError(.invalidInput, "tensor '\(name)' has an invalid shape \(shape)")
        }
        guard count == data.count else {
            throw FunctionError(
                .invalidInput, "tensor '\(name)' has shape \(shape) (\(count) elements) but \(data.count) values")
        }
        self.name = name
        self.shape = shape
        self.data = data
    }

    /// The protocol datatype of the elements.
    package var datatype: TensorDataType { data.datatype }

    /// The number of elements of `shape`, or nil when a dimension is negative or the product
    /// overflows.
    package static func elementCount(_ shape: [Int]) -> Int? {
        var count = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else { return nil }
            count = product
        }
        return count
    }
}

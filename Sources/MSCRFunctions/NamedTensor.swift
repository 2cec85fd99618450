/// The element type of a tensor, by its Open Inference Protocol (KServe V2) name.
public enum TensorDatatype: String, Sendable, CaseIterable, Equatable {
    /// `BOOL`: booleans.
    case bool = "BOOL"
    /// `UINT8`: bytes as numbers.
    case uint8 = "UINT8"
    /// `INT32`: 32-bit signed integers.
    case int32 = "INT32"
    /// `INT64`: 64-bit signed integers.
    case int64 = "INT64"
    /// `FP32`: 32-bit floats.
    case fp32 = "FP32"
    /// `FP64`: 64-bit floats.
    case fp64 = "FP64"
    /// `BYTES`: one byte string per element (text, or an encoded image).
    case bytes = "BYTES"
}

/// The name, datatype and shape of one V2 input or output of a function, as
/// `GET /v2/models/<name>` reports it. `-1` in ``shape`` is a dimension of any size.
public struct TensorDescriptor: Sendable, Equatable {
    /// The tensor's name, e.g. `"image"`.
    public var name: String
    /// The element type.
    public var datatype: TensorDatatype
    /// Dimension sizes; `-1` is any size.
    public var shape: [Int]

    /// A descriptor: `TensorDescriptor("scores", .fp32, [-1])`.
    public init(_ name: String, _ datatype: TensorDatatype, _ shape: [Int]) {
        self.name = name
        self.datatype = datatype
        self.shape = shape
    }
}

/// A named tensor: its shape and its elements, flat and row-major.
///
/// A ``TensorInterface`` function receives its inputs as named tensors (already checked against
/// its ``TensorInterface/inputTensors``) and returns its outputs as named tensors; the runtime
/// reads and writes them in the protocol's JSON, binary and gRPC encodings.
public struct NamedTensor: Sendable, Equatable {
    /// The elements of a tensor, flat and row-major, in one of the supported types.
    public enum Elements: Sendable, Equatable {
        /// `BOOL`.
        case bool([Bool])
        /// `UINT8`.
        case uint8([UInt8])
        /// `INT32`.
        case int32([Int32])
        /// `INT64`.
        case int64([Int64])
        /// `FP32`.
        case fp32([Float])
        /// `FP64`.
        case fp64([Double])
        /// `BYTES`: one byte string per element.
        case bytes([[UInt8]])

        /// The number of elements.
        public var count: Int {
            switch self {
            case .bool(let v): v.count
            case .uint8(let v): v.count
            case .int32(let v): v.count
            case .int64(let v): v.count
            case .fp32(let v): v.count
            case .fp64(let v): v.count
            case .bytes(let v): v.count
            }
        }

        /// The protocol datatype of these elements.
        public var datatype: TensorDatatype {
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

    /// The tensor's name.
    public let name: String
    /// Dimension sizes (non-negative; their product is the element count).
    public let shape: [Int]
    /// The elements, flat and row-major.
    public let elements: Elements

    /// A tensor. Throws ``FunctionFailure`` (`.invalidInput`) when a dimension is negative or
    /// the shape's element count is not the number of `elements`.
    public init(name: String, shape: [Int], elements: Elements) throws {
        var count = 1
        for d in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard d >= 0, !overflow else {
                throw FunctionFailure.invalidInput("tensor '\(name)' has an invalid shape \(shape)")
            }
            count = product
        }
        guard count == elements.count else {
            throw FunctionFailure.invalidInput(
                "tensor '\(name)' has shape \(shape) (\(count) elements) but \(elements.count) values")
        }
        self.name = name
        self.shape = shape
        self.elements = elements
    }

    /// The protocol datatype of the elements.
    public var datatype: TensorDatatype { elements.datatype }

    /// The elements of an `FP32` tensor; throws `.invalidInput` for another datatype.
    public func floats() throws -> [Float] {
        guard case .fp32(let v) = elements else { throw mismatch(.fp32) }
        return v
    }

    /// The elements of an `FP64` tensor; throws `.invalidInput` for another datatype.
    public func doubles() throws -> [Double] {
        guard case .fp64(let v) = elements else { throw mismatch(.fp64) }
        return v
    }

    /// The elements of an `INT64` or `INT32` tensor; throws `.invalidInput` for another datatype.
    public func integers() throws -> [Int64] {
        switch elements {
        case .int64(let v): return v
        case .int32(let v): return v.map(Int64.init)
        default: throw mismatch(.int64)
        }
    }

    /// The elements of a `BOOL` tensor; throws `.invalidInput` for another datatype.
    public func booleans() throws -> [Bool] {
        guard case .bool(let v) = elements else { throw mismatch(.bool) }
        return v
    }

    /// The elements of a `BYTES` tensor; throws `.invalidInput` for another datatype.
    public func byteStrings() throws -> [[UInt8]] {
        guard case .bytes(let v) = elements else { throw mismatch(.bytes) }
        return v
    }

    /// The one element of a `BYTES` tensor of one element (an image, a text); throws
    /// `.invalidInput` otherwise.
    public func singleByteString() throws -> [UInt8] {
        let v = try byteStrings()
        guard v.count == 1 else {
            throw FunctionFailure.invalidInput("input '\(name)' must be one BYTES element, not \(v.count)")
        }
        return v[0]
    }

    private func mismatch(_ wanted: TensorDatatype) -> FunctionFailure {
        FunctionFailure.invalidInput("tensor '\(name)' has datatype \(datatype.rawValue), not \(wanted.rawValue)")
    }
}

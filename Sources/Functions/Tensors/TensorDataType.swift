/// The element types of the Open Inference Protocol (KServe V2), by their protocol names.
package enum TensorDataType: String, Sendable, CaseIterable, Equatable {
    case bool = "BOOL"
    case uint8 = "UINT8"
    case uint16 = "UINT16"
    case uint32 = "UINT32"
    case uint64 = "UINT64"
    case int8 = "INT8"
    case int16 = "INT16"
    case int32 = "INT32"
    case int64 = "INT64"
    case fp16 = "FP16"
    case fp32 = "FP32"
    case fp64 = "FP64"
    /// Variable-length byte strings (length-prefixed in the binary encoding).
    case bytes = "BYTES"

    /// Bytes per element in the binary encoding; nil for `BYTES`, whose elements are each a
    /// 4-byte little-endian length followed by that many bytes.
    package var elementSize: Int? {
        switch self {
        case .bool, .uint8, .int8: return 1
        case .uint16, .int16, .fp16: return 2
        case .uint32, .int32, .fp32: return 4
        case .uint64, .int64, .fp64: return 8
        case .bytes: return nil
        }
    }

    /// Whether `TensorData` can hold this type (the others are valid protocol names that no
    /// mscr function takes or returns).
    package var isSupported: Bool {
        switch self {
        case .bool, .uint8, .int32, .int64, .fp32, .fp64, .bytes: return true
        default: return false
        }
    }
}

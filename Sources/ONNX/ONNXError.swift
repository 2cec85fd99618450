/// The one error type of the `ONNX` module: every refusal of a model file, and every bad input
/// to a loaded graph, says what is wrong and what to do.
package struct ONNXError: Error, CustomStringConvertible, Sendable {
    package enum Code: String, Sendable {
        /// The bytes are not a readable ONNX `ModelProto` (truncated, not protobuf, …).
        case invalidModel = "invalid_model"
        /// The model is well formed but uses something the importer does not support.
        case unsupported = "unsupported"
        /// A tensor passed to `run` does not match the graph input it names.
        case invalidInput = "invalid_input"
        /// A compiled artifact made for another artifact format version, CPU or kernel choice
        /// (load the source model instead).
        case incompatibleArtifact = "incompatible_artifact"
    }

    package var code: Code
    package var message: String
    /// The lower-level error this one wraps, if any (e.g. the protobuf decoding error).
    package var underlying: (any Error & Sendable)?

    package init(_ code: Code, _ message: String, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    package var description: String { message }
}

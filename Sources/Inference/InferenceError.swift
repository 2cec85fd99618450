/// The one error type of the `Inference` module.
package struct InferenceError: Error, CustomStringConvertible, Sendable {
    package enum Code: String, Sendable {
        /// A Darknet cfg that cannot be parsed or uses something we do not support.
        case invalidConfig = "invalid_config"
        /// A weights file or model file whose bytes do not match what the config implies.
        case invalidWeights = "invalid_weights"
        /// A tensor of the wrong shape reached a layer or model.
        case shapeMismatch = "shape_mismatch"
        /// Input data the model cannot use (NaN, too few rows, …).
        case invalidInput = "invalid_input"
        /// A model file of our own format with a bad magic, version or contents.
        case invalidModel = "invalid_model"
        /// A compiled artifact laid out for another artifact format version or CPU: use the sources.
        case incompatibleArtifact = "incompatible_artifact"
    }

    package var code: Code
    package var message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { message }
}

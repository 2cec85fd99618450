/// The one error type of the `Retraining` module.
package struct RetrainingError: Error, CustomStringConvertible, Sendable {
    package enum Code: String, Sendable {
        /// Training data that cannot be used: too few rows, unreadable, malformed.
        case invalidData = "invalid_data"
        /// Training failed (diverged, bad recipe).
        case trainingFailed = "training_failed"
        /// The model repository could not be read or written.
        case repository = "repository"
        /// The trigger could not deliver (HTTP error, job failure).
        case trigger = "trigger"
        /// The serving model is not one retraining makes (an imported ONNX model).
        case unsupportedModel = "unsupported_model"
    }

    package var code: Code
    package var message: String
    package var underlying: (any Error & Sendable)?

    package init(_ code: Code, _ message: String, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    package var description: String { message }
}

package import Functions

/// The error a function throws for a request it cannot answer, or for a bad `function.json`
/// value. The runtime turns `code` into the transport's status (HTTP 400, 415, 422, 503, 500)
/// and `message` into the response's error message, so say what was wrong and what to send.
public struct FunctionFailure: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is.
    public enum Code: String, Sendable {
        /// The input is malformed or out of range (HTTP 400).
        case invalidInput = "invalid_input"
        /// The input is of a kind the function does not take, e.g. not an image (HTTP 415).
        case unsupportedInput = "unsupported_media_type"
        /// Well-formed input the function cannot process, e.g. a corrupt image (HTTP 422).
        case unprocessable = "unprocessable"
        /// The model cannot answer now; the client may retry (HTTP 503).
        case unavailable = "model_unavailable"
        /// A bug or an environment failure (HTTP 500).
        case `internal` = "internal"
    }

    /// What kind of failure this is.
    public var code: Code
    /// A message for the caller: what was wrong and what to do.
    public var message: String
    /// The error this one was made from, if any.
    public var underlying: (any Error & Sendable)?

    /// A failure with `code` and `message`.
    public init(_ code: Code, _ message: String, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    /// Malformed or out-of-range input (HTTP 400).
    public static func invalidInput(_ message: String) -> FunctionFailure { FunctionFailure(.invalidInput, message) }
    /// Input of a kind the function does not take (HTTP 415).
    public static func unsupportedInput(_ message: String) -> FunctionFailure {
        FunctionFailure(.unsupportedInput, message)
    }
    /// Well-formed input the function cannot process (HTTP 422).
    public static func unprocessable(_ message: String) -> FunctionFailure { FunctionFailure(.unprocessable, message) }
    /// The model cannot answer now (HTTP 503).
    public static func unavailable(_ message: String) -> FunctionFailure { FunctionFailure(.unavailable, message) }
    /// A bug or an environment failure (HTTP 500).
    public static func `internal`(_ message: String) -> FunctionFailure { FunctionFailure(.internal, message) }

    /// The message.
    public var description: String { message }

    /// A runtime error as a failure a function can see and rethrow (the original is kept, so
    /// rethrowing it gives the client the same answer).
    package init(_ error: FunctionError) {
        let code: Code
        switch error.code {
        case .invalidInput, .payloadTooLarge: code = .invalidInput
        case .unsupportedMediaType: code = .unsupportedInput
        case .unprocessable: code = .unprocessable
        case .unavailable, .notFound, .overloaded, .timeout: code = .unavailable
        default: code = .internal
        }
        self.init(code, error.message, underlying: error)
    }

    /// The runtime's error for this failure.
    package var functionError: FunctionError {
        if let original = underlying as? FunctionError { return original }
        let mapped: FunctionError.Code
        switch code {
        case .invalidInput: mapped = .invalidInput
        case .unsupportedInput: mapped = .unsupportedMediaType
        case .unprocessable: mapped = .unprocessable
        case .unavailable: mapped = .unavailable
        case .internal: mapped = .internal
        }
        return FunctionError(mapped, message, retryAfter: code == .unavailable ? 5 : nil, underlying: self)
    }
}

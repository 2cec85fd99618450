/// The one error type of the `Functions` module. Only `Runtime` maps `code` to an HTTP status.
package struct FunctionError: Error, CustomStringConvertible, Sendable {
    package enum Code: String, Sendable {
        /// Malformed input: wrong columns, not a number, too few rows (400).
        case invalidInput = "invalid_input"
        /// A body type the function does not take (415).
        case unsupportedMediaType = "unsupported_media_type"
        /// Well-formed input the function cannot process: a corrupt image, too many pixels (422).
        case unprocessable = "unprocessable"
        /// Body over the function's limit (413).
        case payloadTooLarge = "payload_too_large"
        /// Unknown function, model or version (404).
        case notFound = "not_found"
        /// The model cannot be loaded now (503 with Retry-After).
        case unavailable = "model_unavailable"
        /// Over the concurrency limit and the queue is full (429 with Retry-After).
        case overloaded = "overloaded"
        /// Past the request deadline (504).
        case timeout = "timeout"
        /// The client did not send its whole body within the body deadline (408).
        case requestTimeout = "request_timeout"
        /// Not allowed (401/403): admin endpoints without the right token.
        case unauthorized = "unauthorized"
        /// A bug or an environment failure (500).
        case `internal` = "internal"
    }

    package var code: Code
    package var message: String
    /// Seconds a client should wait before trying again (429, 503).
    package var retryAfter: Int?
    package var underlying: (any Error & Sendable)?

    package init(_ code: Code, _ message: String, retryAfter: Int? = nil, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
        self.underlying = underlying
    }

    package var description: String { message }
}

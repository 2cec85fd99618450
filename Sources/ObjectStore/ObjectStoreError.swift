/// The one error type of the `ObjectStore` module.
///
/// `code` says what kind of failure it is (the HTTP layer maps it to a status);
/// `message` says which URI, which file, what was expected and what was found.
package struct ObjectStoreError: Error, CustomStringConvertible, Sendable {
    package enum Code: String, Sendable {
        /// The object or model version does not exist.
        case notFound = "not_found"
        /// A key or model name tried to leave the repository, or is malformed.
        case invalidKey = "invalid_key"
        /// A URI the factory does not understand.
        case invalidURI = "invalid_uri"
        /// The transfer failed (after retries) or stalled past its deadline.
        case transport = "transport"
        /// The server answered with a status that is not success.
        case httpStatus = "http_status"
        /// Size or sha256 differ from the manifest.
        case integrity = "integrity"
        /// The version exists already; publishing never overwrites.
        case alreadyExists = "already_exists"
        /// A manifest or other metadata could not be parsed.
        case malformed = "malformed"
        /// The store is read-only (https://).
        case readOnly = "read_only"
        /// Credentials are missing or were refused.
        case unauthorized = "unauthorized"
        /// A local I/O error.
        case io = "io"
        /// An environment variable or setting has a bad value, or is missing its partner.
        case configuration = "configuration"
    }

    package var code: Code
    package var message: String
    package var underlying: (any Error & Sendable)?

    package init(_ code: Code, _ message: String, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    package var description: String {
        if let underlying { return "\(message) (\(underlying))" }
        return message
    }
}

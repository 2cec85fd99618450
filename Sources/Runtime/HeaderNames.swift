import HTTPTypes

/// Header names the server writes on every request, made once (the trace headers it reads are
/// matched in `RequestTracing.Headers`): building an
/// `HTTPField.Name` validates and lower-cases it, and generic types (the middleware) cannot hold
/// static stored properties.
enum HeaderNames {
    static let serverTiming = HTTPField.Name("Server-Timing")!
}

import HTTPTypes

/// Header names the server reads or writes on every request, made once: building an
/// `HTTPField.Name` validates and lower-cases it, and generic types (the middleware) cannot hold
/// static stored properties.
enum HeaderNames {
    static let traceparent = HTTPField.Name("traceparent")!
    static let tracestate = HTTPField.Name("tracestate")!
    static let cloudTrace = HTTPField.Name("X-Cloud-Trace-Context")!
    static let serverTiming = HTTPField.Name("Server-Timing")!
}

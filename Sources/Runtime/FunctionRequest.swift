import Logging

/// One `POST /functions/<name>` request as the runtime's codecs read it: the same value comes
/// from the HTTP route and from the CLI (`mscr predict`, `mscr detect`).
package struct FunctionRequest: Sendable {
    package var body: [UInt8]
    /// The `Content-Type` header as sent, parameters included: the media type is compared without
    /// case by its readers, a multipart boundary is case-sensitive (browsers send mixed-case ones).
    package var contentType: String?
    /// Query parameters (`format`, `order`, …).
    package var query: [String: String]
    /// The request's logger (trace metadata attached by the transport), if it has one.
    package var logger: Logger?
    /// The trace id of the request (W3C `traceparent` or `X-Cloud-Trace-Context`), if any.
    package var traceID: String?

    /// A request without a logger or trace (the transport sets them when it has them).
    package init(body: [UInt8], contentType: String? = nil, query: [String: String] = [:]) {
        self.body = body
        self.contentType = contentType
        self.query = query
    }
}

/// The answer to a ``FunctionRequest``: the route adds `Server-Timing` and sends it.
package struct FunctionResponse: Sendable {
    package var body: [UInt8]
    package var contentType: String
    package var status: Int

    package init(body: [UInt8], contentType: String = "application/json", status: Int = 200) {
        self.body = body
        self.contentType = contentType
        self.status = status
    }
}

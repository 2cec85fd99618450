/// One HTTP request of a remote store.
package struct HTTPRequest: Sendable {
    package var method: String
    package var url: String
    /// Extra headers in order. An empty value removes a header libcurl would add (`Expect:`).
    package var headers: [(name: String, value: String)]
    /// The body of a PUT or POST; sent from memory, never copied.
    package var body: [UInt8]?
    /// libcurl's `CURLOPT_AWS_SIGV4` provider string, e.g. `aws:amz:us-east-1:s3`.
    package var awsSigV4: String?
    package var username: String?
    package var password: String?
    /// Follow up to 5 redirects (public https stores); never from https to http.
    package var followRedirects = false
    /// What messages call this resource: a store URI and key, never a signed URL or credentials.
    package var display: String

    package init(
        method: String, url: String, display: String, headers: [(name: String, value: String)] = [],
        body: [UInt8]? = nil
    ) {
        self.method = method
        self.url = url
        self.display = display
        self.headers = headers
        self.body = body
    }
}

/// The answer to an `HTTPRequest`, after retries.
package struct HTTPResponse: Sendable {
    package var status: Int
    /// Header names are lowercase; a repeated header keeps its last value.
    package var headers: [String: String]
    /// The body (collecting requests), or the start of an error body (streaming requests).
    package var body: [UInt8]
    /// Attempts made, the successful one included.
    package var attempts: Int

    package init(status: Int, headers: [String: String] = [:], body: [UInt8] = [], attempts: Int = 1) {
        self.status = status
        self.headers = headers
        self.body = body
        self.attempts = attempts
    }

    package var isSuccess: Bool { (200..<300).contains(status) }

    package func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// `Content-Length` as a number.
    package var contentLength: Int? { header("content-length").flatMap { Int($0.trimmingSpaces) } }

    /// The total size from `Content-Range: bytes a-b/total` (or `bytes */total`).
    package var contentRangeTotal: Int? {
        guard let value = header("content-range"), let slash = value.lastIndex(of: "/") else { return nil }
        return Int(value[value.index(after: slash)...].trimmingSpaces)
    }

    /// The error for a non-success answer: names the request, the status, the server's own
    /// words (S3 `<Code>`/`<Message>`, a GCS JSON `message`) and the attempts.
    package func error(_ method: String, _ display: String) -> ObjectStoreError {
        let code: ObjectStoreError.Code
        switch status {
        case 401, 403: code = .unauthorized
        case 404: code = .notFound
        default: code = .httpStatus
        }
        var message = "\(method) \(display): HTTP \(status)"
        if let detail = serverDetail() { message += " (\(detail))" }
        message += " after \(attempts) attempt\(attempts == 1 ? "" : "s")"
        return ObjectStoreError(code, message)
    }

    /// A short summary of an error body.
    func serverDetail() -> String? {
        guard !body.isEmpty else { return nil }
        let text = String(decoding: body.prefix(4096), as: UTF8.self)
        if text.contains("<Error>") || text.contains("<Code>") {
            let code = XMLScanner.elements("Code", in: text).first
            let message = XMLScanner.elements("Message", in: text).first
            let parts = [code, message].compactMap { $0 }
            if !parts.isEmpty { return parts.joined(separator: ": ") }
        }
        if text.hasPrefix("{"), let range = text.firstRange(of: "\"message\"") {
            let rest = text[range.upperBound...].drop { $0 == " " || $0 == ":" }
            if rest.first == "\"", let end = rest.dropFirst().firstIndex(of: "\"") {
                return String(rest[rest.index(after: rest.startIndex)..<end])
            }
        }
        let flat = text.prefix(200).map { $0.isNewline ? " " : $0 }
        return String(flat).trimmingSpaces
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces, tabs and line breaks.
    var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0.isNewline }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}

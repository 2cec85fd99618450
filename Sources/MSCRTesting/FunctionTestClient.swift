import FoundationEssentials
internal import HTTPTypes
internal import Hummingbird
internal import HummingbirdTesting
public import MSCRFunctions

/// Calls one function the way a client of `POST /functions/<name>` does.
public struct FunctionTestClient<Function: InferenceFunction>: Sendable {
    let client: any TestClientProtocol
    /// The function's name (its URL is `/functions/<name>`).
    public let name: String

    init(client: any TestClientProtocol, name: String) {
        self.client = client
        self.name = name
    }

    /// Sends `image` (JPEG or PNG bytes) as the body, the other input fields as `query`.
    public func invoke(image: [UInt8], contentType: String = "image/jpeg", query: [String: String] = [:]) async throws
        -> FunctionTestResponse<Function.Output>
    {
        try await invoke(body: image, contentType: contentType, query: query)
    }

    /// Sends `input` as a JSON body.
    public func invoke(json input: some Encodable, query: [String: String] = [:]) async throws
        -> FunctionTestResponse<Function.Output>
    {
        try await invoke(body: Array(try JSONEncoder().encode(input)), contentType: "application/json", query: query)
    }

    /// Sends any body with any content type (nil: no `Content-Type` header) and extra
    /// `headers` (e.g. `traceparent`).
    public func invoke(
        body: [UInt8], contentType: String?, query: [String: String] = [:], headers extra: [String: String] = [:]
    ) async throws -> FunctionTestResponse<Function.Output> {
        var headers: HTTPFields = [:]
        if let contentType { headers[.contentType] = contentType }
        for (name, value) in extra {
            guard let field = HTTPField.Name(name) else {
                throw FunctionFailure.invalidInput("'\(name)' is not a header name")
            }
            headers[field] = value
        }
        let response = try await client.execute(
            uri: "/functions/\(name)" + Self.queryString(query), method: .post, headers: headers,
            body: ByteBuffer(bytes: body))
        var fields: [String: String] = [:]
        for field in response.headers { fields[field.name.canonicalName] = field.value }
        return FunctionTestResponse(
            status: Int(response.status.code), headers: fields, body: Array(response.body.readableBytesView))
    }

    /// `?k=v&…`, sorted, percent-encoded.
    static func queryString(_ query: [String: String]) -> String {
        guard !query.isEmpty else { return "" }
        func encode(_ s: String) -> String {
            var out = ""
            for byte in s.utf8 {
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                    UInt8(ascii: "~"):
                    out.unicodeScalars.append(Unicode.Scalar(byte))
                default:
                    let hex = Array("0123456789ABCDEF".utf8)
                    out += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 15)]], as: UTF8.self)
                }
            }
            return out
        }
        return "?"
            + query.sorted { $0.key < $1.key }.map { encode($0.key) + "=" + encode($0.value) }.joined(separator: "&")
    }
}

/// A function's answer as the client saw it.
public struct FunctionTestResponse<Output: Sendable>: Sendable {
    /// The error body of a failed call: `{"error": {"code": "…", "message": "…"}}`.
    public struct ErrorBody: Codable, Sendable, Equatable {
        /// The error's code, e.g. `"invalid_input"`.
        public var code: String
        /// What went wrong, for a person.
        public var message: String

        /// An error body (to compare with).
        public init(code: String, message: String) {
            self.code = code
            self.message = message
        }
    }

    /// The HTTP status code.
    public let status: Int
    /// Response headers by lowercased name (`server-timing`, `content-type`).
    public let headers: [String: String]
    /// The raw body.
    public let body: [UInt8]

    /// The body as text.
    public var text: String { String(decoding: body, as: UTF8.self) }

    /// The `Server-Timing` header (`queue;dur=…, infer;dur=…, total;dur=…`, with `cold`,
    /// `fetch` and `parse` on a cold start).
    public var serverTiming: String? { headers["server-timing"] }

    /// The body decoded as the function's output, when the call succeeded and `Output` is
    /// `Decodable`; nil otherwise.
    public var output: Output? {
        guard (200..<300).contains(status), let decodable = Output.self as? any Decodable.Type else { return nil }
        return Self.decode(decodable, body) as? Output
    }

    private struct ErrorEnvelope: Codable { var error: ErrorBody }

    /// The error of a failed call, nil when the body is not the error shape.
    public var error: ErrorBody? {
        (try? JSONDecoder().decode(ErrorEnvelope.self, from: Data(body)))?.error
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ body: [UInt8]) -> T? {
        try? JSONDecoder().decode(T.self, from: Data(body))
    }
}

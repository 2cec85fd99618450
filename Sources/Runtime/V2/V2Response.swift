import Common
import Functions
import HTTPTypes
import Hummingbird

/// Responses of the V2 routes. Errors have the protocol's shape, `{"error": "<message>"}`
/// (unlike the native `{"error": {"code", "message"}}`), with the status `APIError` maps the
/// error to, except that the protocol's client errors are all 400: an unsupported media type
/// (415) and an unprocessable input (422, e.g. a corrupt image) are 400 here.
enum V2Response {
    static let inferenceHeaderLength = HTTPField.Name("Inference-Header-Content-Length")!

    /// A JSON response from JSON text.
    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// The V2 error response for any error.
    static func error(_ error: any Error) -> Response {
        let api = APIError.from(error)
        var response = json("{\"error\":\(quote(api.message))}", status: status(api))
        if let retryAfter = api.retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        return response
    }

    /// The status of a V2 error: `APIError`'s, with 415 and 422 as 400.
    static func status(_ api: APIError) -> HTTPResponse.Status {
        api.status == .unsupportedMediaType || api.status == .unprocessableContent ? .badRequest : api.status
    }

    /// An error response with a message.
    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        json("{\"error\":\(quote(message))}", status: status)
    }

    /// A JSON string literal (`JSONText.string`, the one escaper the responses share).
    static func quote(_ s: String) -> String { JSONText.string(s) }

    /// A JSON array of strings.
    static func strings(_ items: [String]) -> String {
        "[" + items.map(quote).joined(separator: ",") + "]"
    }

    /// `{"name", "datatype", "shape"}` for each spec.
    static func specs(_ specs: [TensorSpec]) -> String {
        "["
            + specs.map {
                "{\"name\":\(quote($0.name)),\"datatype\":\(quote($0.datatype.rawValue)),\"shape\":[\($0.shape.map(String.init).joined(separator: ","))]}"
            }.joined(separator: ",") + "]"
    }
}

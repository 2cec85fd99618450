import Common
import FoundationEssentials
import Functions
import HTTPTypes
import Hummingbird
import Inference
import Logging
import ObjectStore

/// An error on its way to the client: the only place errors become HTTP statuses.
/// Body: `{"error": {"code": "…", "message": "…"}}`; 429 and 503 carry `Retry-After`.
package struct APIError: HTTPResponseError, Sendable {
    package var status: HTTPResponse.Status
    package var code: String
    package var message: String
    package var retryAfter: Int?

    package init(status: HTTPResponse.Status, code: String, message: String, retryAfter: Int? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }

    package func response(from request: Request, context: some RequestContext) throws -> Response {
        response()
    }

    package func response() -> Response {
        var headers: HTTPFields = [.contentType: "application/json", .cacheControl: "no-store"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        let body = Self.body(code: code, message: message)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// The JSON body clients get for this error, as `mscr detect` and `mscr predict` print it too.
    package var body: [UInt8] { Self.body(code: code, message: message) }

    static func body(code: String, message: String) -> [UInt8] {
        let object: JSONValue = ["error": ["code": code.json, "message": message.json]]
        return object.bytes()
    }

    /// Maps any error to what the client sees.
    package static func from(_ error: any Error) -> APIError {
        switch error {
        case let e as APIError:
            return e
        case let e as FunctionError:
            return APIError(
                status: status(for: e.code), code: e.code.rawValue, message: e.message, retryAfter: retryAfter(e))
        case let e as ObjectStoreError:
            switch e.code {
            case .notFound: return APIError(status: .notFound, code: "not_found", message: e.message)
            case .invalidKey: return APIError(status: .badRequest, code: "invalid_key", message: e.message)
            default:
                return APIError(
                    status: .serviceUnavailable, code: "storage_" + e.code.rawValue, message: e.message, retryAfter: 1)
            }
        case let e as InferenceError:
            return APIError(status: .unprocessableContent, code: e.code.rawValue, message: e.message)
        case let e as HTTPError:
            let code: String
            switch e.status.code {
            case 404: code = "not_found"
            case 405: code = "method_not_allowed"
            case 413: code = "payload_too_large"
            default: code = "http_\(e.status.code)"
            }
            return APIError(status: e.status, code: code, message: e.body ?? e.status.reasonPhrase)
        case is CancellationError:
            return APIError(
                status: .serviceUnavailable, code: "cancelled", message: "the request was cancelled", retryAfter: 1)
        default:
            return APIError(status: .internalServerError, code: "internal", message: "internal error: \(error)")
        }
    }

    static func status(for code: FunctionError.Code) -> HTTPResponse.Status {
        switch code {
        case .invalidInput: return .badRequest
        case .unsupportedMediaType: return .unsupportedMediaType
        case .unprocessable: return .unprocessableContent
        case .payloadTooLarge: return .contentTooLarge
        case .notFound: return .notFound
        case .unavailable: return .serviceUnavailable
        case .overloaded: return .tooManyRequests
        case .timeout: return .gatewayTimeout
        case .requestTimeout: return .requestTimeout
        case .unauthorized: return .unauthorized
        case .internal: return .internalServerError
        }
    }

    static func retryAfter(_ e: FunctionError) -> Int? {
        switch e.code {
        case .overloaded, .unavailable: return e.retryAfter ?? 1
        default: return e.retryAfter
        }
    }
}

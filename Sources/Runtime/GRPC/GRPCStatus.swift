import Functions
import HTTPTypes
import SwiftProtobuf

/// A gRPC status on its way to the client: the only place errors become gRPC status codes,
/// mapped from the HTTP status `APIError` gives the same error on REST (so both protocols
/// answer alike). Sent as the trailers `grpc-status`, `grpc-message` and, for shed load and
/// an unavailable store, `grpc-status-details-bin` with a `google.rpc.RetryInfo`.
struct GRPCStatus: Error, Sendable, Equatable {
    /// The codes of https://grpc.github.io/grpc/core/md_doc_statuscodes.html mscr answers.
    enum Code: Int, Sendable {
        case ok = 0
        case invalidArgument = 3
        case deadlineExceeded = 4
        case notFound = 5
        case resourceExhausted = 8
        case unimplemented = 12
        case `internal` = 13
        case unavailable = 14
        case unauthenticated = 16
    }

    var code: Code
    var message: String
    /// Seconds after which a retry may succeed (shed load, an unavailable store).
    var retryAfter: Int?

    init(_ code: Code, _ message: String, retryAfter: Int? = nil) {
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }

    static let statusName = HTTPField.Name("grpc-status")!
    static let messageName = HTTPField.Name("grpc-message")!
    static let detailsName = HTTPField.Name("grpc-status-details-bin")!

    /// Maps any error: a `GRPCStatus` as it is, anything else through `APIError`'s HTTP status.
    static func from(_ error: any Error) -> GRPCStatus {
        if let status = error as? GRPCStatus { return status }
        let api = APIError.from(error)
        return GRPCStatus(code(for: api.status), api.message, retryAfter: api.retryAfter)
    }

    /// The gRPC code of an HTTP status (https://github.com/grpc/grpc/blob/master/doc/http-grpc-status-mapping.md
    /// for the transport's; here it is the meaning of mscr's own statuses).
    static func code(for status: HTTPResponse.Status) -> Code {
        switch status.code {
        case 400, 415, 422: return .invalidArgument
        case 401: return .unauthenticated
        case 404: return .notFound
        case 405, 501: return .unimplemented
        case 408, 504: return .deadlineExceeded
        case 413, 429: return .resourceExhausted
        case 503: return .unavailable
        default: return .internal
        }
    }

    /// The trailers: `grpc-status`, the percent-encoded `grpc-message`, and with `retryAfter`
    /// the rich status (`google.rpc.Status` with a `google.rpc.RetryInfo`) and `retry-after`.
    var trailers: HTTPFields {
        var fields: HTTPFields = [Self.statusName: String(code.rawValue)]
        if code != .ok { fields[Self.messageName] = Self.percentEncoded(message) }
        if let retryAfter, code != .ok {
            var retry = Google_Rpc_RetryInfo()
            retry.retryDelay = Google_Protobuf_Duration(seconds: Int64(retryAfter), nanos: 0)
            var rich = Google_Rpc_Status()
            rich.code = Int32(code.rawValue)
            rich.message = message
            if let any = try? Google_Protobuf_Any(message: retry) { rich.details = [any] }
            if let bytes: [UInt8] = try? rich.serializedBytes() {
                fields[Self.detailsName] = TensorBase64.encode(bytes)
            }
            fields[.retryAfter] = String(retryAfter)
        }
        return fields
    }

    /// `grpc-message` encoding: bytes outside printable ASCII, and `%`, as `%XX`.
    static func percentEncoded(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in text.utf8 {
            if byte >= 0x20, byte <= 0x7E, byte != UInt8(ascii: "%") {
                out.append(byte)
            } else {
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

import Foundation
import Hummingbird

/// The OpenAPI document of the HTTP API, served at `GET /openapi.json`. There is one copy:
/// `Sources/Runtime/Web/openapi.json`, a resource of this module (`docs/openapi.json` links to
/// it). Read once, at start; `MSCR_WEB_ROOT` (when it holds an `openapi.json`) wins, as for the
/// web client.
struct OpenAPIDocument: Sendable {
    let bytes: [UInt8]?

    static func load(webRoot: String?) -> OpenAPIDocument {
        var candidates: [String] = []
        if let webRoot { candidates.append(webRoot + "/openapi.json") }
        if let resources = Bundle.module.resourcePath { candidates.append(resources + "/Web/openapi.json") }
        for path in candidates {
            if let data = FileManager.default.contents(atPath: path) { return OpenAPIDocument(bytes: Array(data)) }
        }
        return OpenAPIDocument(bytes: nil)
    }

    func response() throws -> Response {
        guard let bytes else {
            throw APIError(status: .notFound, code: "not_found", message: "this build has no openapi.json")
        }
        return Response(
            status: .ok, headers: [.contentType: "application/json", .cacheControl: "public, max-age=300"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

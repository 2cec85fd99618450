import FoundationEssentials
import Hummingbird

/// The OpenAPI document of the HTTP API, served at `GET /openapi.json`. There is one copy:
/// `Sources/Runtime/Web/openapi.json`, compiled into the binary (`docs/openapi.json` links to
/// it); `MSCR_WEB_ROOT` (when it holds an `openapi.json`) wins, as for the web client.
struct OpenAPIDocument: Sendable {
    let bytes: [UInt8]?

    static func load(webRoot: String?) -> OpenAPIDocument {
        if let webRoot, let data = FileManager.default.contents(atPath: webRoot + "/openapi.json") {
            return OpenAPIDocument(bytes: Array(data))
        }
        return OpenAPIDocument(bytes: WebAssets.embedded["openapi.json"])
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

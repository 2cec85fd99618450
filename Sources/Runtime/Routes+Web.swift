import Common
import FoundationEssentials
import Hummingbird

extension MSCRServer {
    /// The web client at `/` and its assets under `/static/`: the `Web` folder compiled into the
    /// binary, or the files of `MSCR_WEB_ROOT` (read once, at start) when it is set.
    func addWebRoutes(to router: Router<BasicRequestContext>) {
        let assets = WebAssets.load(root: configuration.webRoot)
        router.get("/") { _, _ -> Response in
            try assets.response(for: "index.html")
        }
        router.get("/static/:file") { _, context -> Response in
            try assets.response(for: context.parameters.get("file") ?? "")
        }
    }
}

/// The web client's files, in memory (they are small).
struct WebAssets: Sendable {
    let files: [String: [UInt8]]

    static func load(root: String?) -> WebAssets {
        guard let root else { return WebAssets(files: embedded) }
        var files: [String: [UInt8]] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] where !name.hasPrefix(".") {
            if let data = FileManager.default.contents(atPath: root + "/" + name) { files[name] = Array(data) }
        }
        return WebAssets(files: files)
    }

    /// `Sources/Runtime/Web`, as the EmbedWeb plugin compiled it in.
    static let embedded: [String: [UInt8]] = WebFiles.files.mapValues { text in
        Array(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    func response(for name: String) throws -> Response {
        guard let bytes = files[name] else {
            throw APIError(status: .notFound, code: "not_found", message: "no such asset '\(name)'")
        }
        let type: String
        switch Path.pathExtension(name) {
        case "html": type = "text/html; charset=utf-8"
        case "js": type = "text/javascript; charset=utf-8"
        case "css": type = "text/css; charset=utf-8"
        case "svg": type = "image/svg+xml"
        case "csv": type = "text/csv; charset=utf-8"
        case "json": type = "application/json"
        case "png": type = "image/png"
        case "jpg", "jpeg": type = "image/jpeg"
        default: type = "application/octet-stream"
        }
        return Response(
            status: .ok, headers: [.contentType: type, .cacheControl: "public, max-age=300"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

import Foundation
import Hummingbird

extension MSCRServer {
    /// The web client at `/` and its assets under `/static/`, from the `Web` resource folder
    /// (or `MSCR_WEB_ROOT`). Files are read once, at start.
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

/// The web client's files, read into memory at start (they are small).
struct WebAssets: Sendable {
    let files: [String: [UInt8]]

    static func load(root: String?) -> WebAssets {
        let directory = root ?? Bundle.module.resourcePath.map { $0 + "/Web" } ?? ""
        var files: [String: [UInt8]] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where !name.hasPrefix(".") {
            if let data = FileManager.default.contents(atPath: directory + "/" + name) { files[name] = Array(data) }
        }
        return WebAssets(files: files)
    }

    func response(for name: String) throws -> Response {
        guard let bytes = files[name] else {
            throw APIError(status: .notFound, code: "not_found", message: "no such asset '\(name)'")
        }
        let type: String
        switch (name as NSString).pathExtension {
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

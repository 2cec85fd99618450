import Foundation
import Functions
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import ObjectStore
import Runtime

/// A temporary functions folder and file repository for the V2 tests:
/// - `tt` (`mscr-test-tensor`, model `tt-model` versions 1 "one" and 2 "two"),
/// - `t` (`mscr-test`, no tensor interface, so not a V2 model),
/// - `broken` (`mscr-test-tensor` whose model refuses to load).
struct V2Fixture {
    let root: String
    var functionsDirectory: String { root + "/functions" }
    var repositoryDirectory: String { root + "/models" }

    init(maxBodyBytes: Int = 4096) throws {
        root = NSTemporaryDirectory() + "mscr-v2-\(UUID().uuidString)"
        let functions: [(String, String, String)] = [
            ("tt", "mscr-test-tensor", "tt-model"), ("t", "mscr-test", "t-model"),
            ("broken", "mscr-test-tensor", "broken-model"),
        ]
        for (name, kind, model) in functions {
            try FileManager.default.createDirectory(
                atPath: functionsDirectory + "/" + name, withIntermediateDirectories: true)
            let config = """
                {"name": "\(name)", "kind": "\(kind)", "model": "\(model)", "version": "latest",
                 "limits": {"maxBodyBytes": \(maxBodyBytes), "concurrency": 4}}
                """
            try config.write(toFile: functionsDirectory + "/\(name)/function.json", atomically: true, encoding: .utf8)
        }
        let repo = ModelRepository(store: FileObjectStore(root: repositoryDirectory))
        try repo.publish(model: "tt-model", format: "test", files: ["model.txt": Array("one".utf8)])
        try repo.publish(model: "tt-model", format: "test", files: ["model.txt": Array("two".utf8)])
        try repo.publish(model: "t-model", format: "test", files: ["model.txt": Array("hello".utf8)])
        try repo.publish(model: "broken-model", format: "test", files: ["model.txt": Array("fail".utf8)])
    }

    func server() throws -> MSCRServer {
        var c = RuntimeConfiguration()
        c.port = 0
        c.host = "127.0.0.1"
        c.functionsDirectory = functionsDirectory
        c.modelRepository = "file://" + repositoryDirectory
        c.enableTestFunctions = true
        let logger = Logger(label: "test") { label in
            CloudLogHandler(label: label, level: .debug, format: .json, project: "proj", sink: .memory())
        }
        return try MSCRServer(
            configuration: c, logger: logger, extraKinds: [TensorKind(TensorTestKind())])
    }

    /// Runs `body` against the router of a fresh server.
    func test(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let server = try self.server()
        try await server.makeApplication(router: server.makeRouter()).test(.router, body)
    }

    func cleanup() {
        try? FileManager.default.removeItem(atPath: root)
    }
}

/// Request bodies of the V2 tests.
enum V2Body {
    /// JSON text as a buffer.
    static func json(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    /// A request for `tt`: `x` [n, 2] and `s` [m] in JSON.
    static func tt(x: [[Float]], s: [String], extra: String = "") -> ByteBuffer {
        let xs = x.map { "[\($0.map { "\($0)" }.joined(separator: ","))]" }.joined(separator: ",")
        let ss = s.map { "\"\($0)\"" }.joined(separator: ",")
        return json(
            """
            {"inputs": [{"name": "x", "datatype": "FP32", "shape": [\(x.count), 2], "data": [\(xs)]},
                        {"name": "s", "datatype": "BYTES", "shape": [\(s.count)], "data": [\(ss)]}]\(extra)}
            """)
    }

    /// A binary-extension body: the JSON header, then `chunks` in order; and the header value.
    static func binary(header: String, chunks: [[UInt8]]) -> (ByteBuffer, String) {
        let json = Array(header.utf8)
        return (ByteBuffer(bytes: json + chunks.flatMap { $0 }), String(json.count))
    }

    /// Little-endian FP32 bytes.
    static func fp32(_ values: [Float]) -> [UInt8] {
        values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
    }

    /// `BYTES` elements, each a 4-byte little-endian length then the bytes.
    static func bytes(_ elements: [[UInt8]]) -> [UInt8] {
        elements.flatMap { e in withUnsafeBytes(of: UInt32(e.count).littleEndian) { Array($0) } + e }
    }
}

extension TestResponse {
    /// The V2 error message (`{"error": "…"}`), nil when the body is not that shape.
    var v2Error: String? { json["error"] as? String }

    /// The outputs of a JSON infer response, by name.
    var v2Outputs: [String: [String: Any]] {
        var out: [String: [String: Any]] = [:]
        for o in json["outputs"] as? [[String: Any]] ?? [] {
            if let name = o["name"] as? String { out[name] = o }
        }
        return out
    }
}

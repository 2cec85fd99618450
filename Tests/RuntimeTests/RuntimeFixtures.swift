import Foundation
import Functions
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import ObjectStore
import Runtime

/// A temporary functions folder and file repository with one `mscr-test` function, `t`.
struct RuntimeFixture {
    let root: String
    var functionsDirectory: String { root + "/functions" }
    var repositoryDirectory: String { root + "/models" }

    init(concurrency: Int = 4, maxBodyBytes: Int = 1000, loadMs: Int = 0, modelText: String = "hello") throws {
        root = NSTemporaryDirectory() + "mscr-runtime-\(UUID().uuidString)"
        let fm = FileManager.default
        try fm.createDirectory(atPath: functionsDirectory + "/t", withIntermediateDirectories: true)
        let config = """
            {"name": "t", "kind": "mscr-test", "model": "t-model", "version": "latest",
             "params": {"load_ms": \(loadMs)},
             "limits": {"maxBodyBytes": \(maxBodyBytes), "concurrency": \(concurrency)}}
            """
        try config.write(toFile: functionsDirectory + "/t/function.json", atomically: true, encoding: .utf8)
        let repo = ModelRepository(store: FileObjectStore(root: repositoryDirectory))
        try repo.publish(model: "t-model", format: "test", files: ["model.txt": Array(modelText.utf8)])
    }

    /// Size of the published manifest (a load fetches it too).
    var manifestSize: Int {
        (try? FileManager.default.attributesOfItem(atPath: repositoryDirectory + "/t-model/1/manifest.json")[.size]
            as? Int) ?? -1
    }

    func configuration(_ edit: (inout RuntimeConfiguration) -> Void = { _ in }) -> RuntimeConfiguration {
        var c = RuntimeConfiguration()
        c.port = 0
        c.host = "127.0.0.1"
        c.functionsDirectory = functionsDirectory
        c.modelRepository = "file://" + repositoryDirectory
        c.enableTestFunctions = true
        c.adminToken = "s3cret-token"
        edit(&c)
        return c
    }

    func server(
        logSink: LogSink = .memory(), _ edit: (inout RuntimeConfiguration) -> Void = { _ in }
    ) throws -> MSCRServer {
        let config = configuration(edit)
        let logger = Logger(label: "test") { label in
            CloudLogHandler(label: label, level: .debug, format: .json, project: "proj", sink: logSink)
        }
        return try MSCRServer(configuration: config, logger: logger)
    }

    func cleanup() {
        try? FileManager.default.removeItem(atPath: root)
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }
}

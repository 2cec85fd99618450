import Foundation
import ObjectStore

/// A temporary functions folder + file repository with the `mscr-test` function `t`.
struct TestRepository {
    let root: String
    var functions: String { root + "/functions" }
    var models: String { root + "/models" }

    init(loadMs: Int = 0, concurrency: Int = 4, modelText: String = "hello") throws {
        root = NSTemporaryDirectory() + "mscr-e2e-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: functions + "/t", withIntermediateDirectories: true)
        try """
        {"name": "t", "kind": "mscr-test", "model": "t-model", "params": {"load_ms": \(loadMs)},
         "limits": {"maxBodyBytes": 4096, "concurrency": \(concurrency)}}
        """.write(toFile: functions + "/t/function.json", atomically: true, encoding: .utf8)
        try ModelRepository(store: FileObjectStore(root: models))
            .publish(model: "t-model", format: "test", files: ["model.txt": Array(modelText.utf8)])
    }

    var environment: [String: String] {
        ["MSCR_FUNCTIONS": functions, "MSCR_MODEL_REPOSITORY": "file://" + models, "MSCR_ENABLE_TEST_FUNCTIONS": "1"]
    }

    func cleanup() { try? FileManager.default.removeItem(atPath: root) }
}

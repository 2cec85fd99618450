import Foundation
import ObjectStore
import Testing

/// The read-only `http(s)://` repository on the fault server: versions by probing, HEAD
/// fallback, and verification of what a plain web server hands out.
@Suite struct HTTPStoreTests {
    let server: ServerProcess
    init() throws { server = try Fixtures.fault.get() }

    /// Publishes into memory and copies every object to the fault server under `model`'s name.
    func serve(model: String, versions: Int, weights: [UInt8], skipManifestOf skipped: Int? = nil) throws {
        let memory = MemoryObjectStore()
        let repository = ModelRepository(store: memory)
        for _ in 0..<versions {
            try repository.publish(model: model, format: "darknet-yolo", files: ["model.weights": weights])
        }
        for key in try memory.list(prefix: model + "/") where key != "\(model)/\(skipped ?? 0)/manifest.json" {
            try server.upload(key, try memory.read(key))
        }
    }

    @Test func versionsAreFoundByProbingAndTheLatestStreams() throws {
        let model = uniqueName("probe")
        let weights = testBytes(40_000, seed: 1)
        try serve(model: model, versions: 3, weights: weights, skipManifestOf: 3)
        let repository = ModelRepository(store: try server.store("ok"))
        #expect(try repository.versions(of: model) == [1, 2])
        let latest = try repository.resolve(model: model, version: "latest")
        #expect(latest.version == 2)
        #expect(try latest.read("model.weights").bytes == weights)
    }

    @Test(arguments: ["wrong", "short"])
    func badBytesFromTheServerFailTheLoad(scenario: String) throws {
        let model = uniqueName(scenario)
        try serve(model: model, versions: 1, weights: testBytes(20_000, seed: 2))
        let repository = ModelRepository(store: try server.store(scenario))
        let version = try repository.resolve(model: model, version: "latest")
        let error = try #require(throws: ObjectStoreError.self) { try version.read("model.weights") }
        #expect(error.code == .integrity)
        #expect(error.message.contains("/\(scenario)/\(model)/1/model.weights"))
        #expect(
            error.message.contains(
                scenario == "wrong" ? "sha256 mismatch: expected" : "expected 20000 bytes, got 19990"))
    }

    @Test func aModelLoadsThroughTransient503s() throws {
        let model = uniqueName("flaky")
        let weights = testBytes(30_000, seed: 3)
        try serve(model: model, versions: 1, weights: weights)
        let repository = ModelRepository(store: try server.store("flaky-2"))
        #expect(try repository.resolve(model: model, version: "latest").read("model.weights").bytes == weights)
    }

    @Test func statFallsBackToARangedGetWithoutHead() throws {
        let key = uniqueName("nohead") + "/f.bin"
        try server.upload(key, testBytes(12_345, seed: 4))
        let info = try server.store("nohead").stat(key)
        #expect(info?.size == 12_345)
        let log = try server.requests(containing: "/nohead/" + key)
        #expect(log.map { $0["method"] ?? "" } == ["HEAD", "GET"])
        #expect(log.last?["range"] == "bytes=0-0")
    }

    @Test func writesAndUnindexedListingsAreRefused() throws {
        let store = try server.store("ok")
        let put = try #require(throws: ObjectStoreError.self) { try store.put("a/1/x", bytes: [1], contentType: "x") }
        #expect(put.code == .readOnly)
        let list = try #require(throws: ObjectStoreError.self) { try store.list(prefix: "") }
        #expect(list.message.contains("index.txt"))
    }

    @Test func anIndexFileListsTheRepository() throws {
        let root = uniqueName("indexed")
        try server.upload(
            "\(root)/index.txt", Array("# keys\nm/1/manifest.json\nm/1/model.weights\n\nn/2/manifest.json\n".utf8))
        let store = try server.store("ok/\(root)")
        #expect(try store.list(prefix: "").sorted() == ["m/1/manifest.json", "m/1/model.weights", "n/2/manifest.json"])
        #expect(try ModelRepository(store: store).models() == ["m", "n"])
    }

    @Test func credentialsInTheURLNeverShow() throws {
        let store = try HTTPObjectStore(
            root: "http://user:hunter2@127.0.0.1:\(server.port)/ok", configuration: testTransport())
        #expect(store.uri == "http://127.0.0.1:\(server.port)/ok")
        let error = try #require(throws: ObjectStoreError.self) { try store.read(uniqueName("none")) }
        #expect(!error.message.contains("hunter2"))
    }
}

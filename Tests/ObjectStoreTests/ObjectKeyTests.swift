import Foundation
import ObjectStore
import Testing

/// Nothing a client or a manifest says can reach outside the repository.
@Suite struct ObjectKeyTests {
    static let traversals = [
        "../secret", "a/../../b", "a/./b", "/etc/passwd", "a//b", "a/", "", "..", "a/..", "%2e%2e/x",
        "a\\..\\b", "a/b\u{0}c", "a b", "über", "a/\n/b",
    ]

    @Test(arguments: traversals)
    func badKeysAreRejectedEverywhere(key: String) throws {
        let root = try temporaryDirectory("keys")
        let stores: [any ObjectStore] = [
            FileObjectStore(root: root + "/repo"), MemoryObjectStore(),
            try S3ObjectStore(
                bucket: "b", endpoint: "http://127.0.0.1:1", credentials: nil, configuration: testTransport()),
            try GCSObjectStore(
                bucket: "b", endpoint: "http://127.0.0.1:1", tokens: .none, configuration: testTransport()),
            try HTTPObjectStore(root: "http://127.0.0.1:1/r", configuration: testTransport()),
        ]
        for store in stores {
            let get = try #require(throws: ObjectStoreError.self, "\(store.uri) get") { try store.read(key) }
            #expect(get.code == .invalidKey, "\(store.uri) get '\(key)': \(get)")
            if !(store is HTTPObjectStore) {
                let put = try #require(throws: ObjectStoreError.self) {
                    try store.put(key, bytes: [1], contentType: "x")
                }
                #expect(put.code == .invalidKey, "\(store.uri) put '\(key)'")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: root + "/secret"))
    }

    @Test(arguments: ["..", "../x", "a/b", "", ".", "x y"])
    func badModelNamesAreRejected(name: String) throws {
        let repository = ModelRepository(store: MemoryObjectStore())
        let error = try #require(throws: ObjectStoreError.self) {
            try repository.resolve(model: name, version: "latest")
        }
        #expect(error.code == .invalidKey)
        #expect(throws: ObjectStoreError.self) {
            try repository.publish(model: name, format: "x", files: ["a": [1]])
        }
    }

    @Test func publishRejectsBadFileNamesAndManifestsNamingOtherFiles() throws {
        let store = MemoryObjectStore()
        let repository = ModelRepository(store: store)
        #expect(throws: ObjectStoreError.self) {
            try repository.publish(model: "m", format: "x", files: ["../evil": [1]])
        }
        var manifest = try repository.publish(model: "m", format: "x", files: ["a": [1]])
        manifest.version = 2
        manifest.files["../../etc/passwd"] = Manifest.File(size: 1, sha256: String(repeating: "0", count: 64))
        try store.put("m/2/manifest.json", bytes: manifest.encoded(), contentType: "application/json")
        let error = try #require(throws: ObjectStoreError.self) { try repository.resolve(model: "m", version: "2") }
        #expect(error.code == .invalidKey)
    }

    @Test func validKeysPass() throws {
        for key in ["a", "yolo-fastest-1.1/12/model.weights", "A_b.c/d"] {
            try ObjectKey.validateKey(key)
        }
        for prefix in ["", "model/", "mod", "model/1/"] {
            try ObjectKey.validatePrefix(prefix)
        }
    }
}

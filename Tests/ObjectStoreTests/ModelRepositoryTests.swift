import Foundation
import ObjectStore
import Testing

/// The model repository's contract on the in-memory store: versions, "latest", publishing and
/// verification while streaming.
@Suite struct ModelRepositoryTests {
    let store = MemoryObjectStore(chunkSize: 1000)
    var repository: ModelRepository { ModelRepository(store: store) }

    func publishDemo(version: Int? = nil, weights: [UInt8] = testBytes(10_000, seed: 1)) throws -> Manifest {
        try repository.publish(
            model: "demo", version: version, format: "darknet-yolo",
            files: ["model.weights": weights, "model.cfg": Array("[net]\n".utf8)])
    }

    @Test func publishWritesFilesAndAManifestThatResolves() throws {
        let weights = testBytes(10_000, seed: 2)
        let manifest = try publishDemo(weights: weights)
        #expect(manifest.version == 1)
        #expect(manifest.files["model.weights"] == Manifest.File(size: 10_000, sha256: SHA256Digest.hex(of: weights)))
        let version = try repository.resolve(model: "demo", version: "latest")
        #expect(version.version == 1)
        #expect(try version.read("model.weights").bytes == weights)
        #expect(try repository.models() == ["demo"])
    }

    @Test func latestIgnoresAVersionWithoutManifest() throws {
        _ = try publishDemo()
        _ = try publishDemo()
        // Version 3's files are there, its manifest is not: an unfinished publish.
        try store.put("demo/3/model.weights", bytes: [1, 2, 3], contentType: "application/octet-stream")
        #expect(try repository.versions(of: "demo") == [1, 2])
        #expect(try repository.latestVersion(of: "demo") == 2)
        #expect(try repository.resolve(model: "demo", version: "latest").version == 2)
        let error = try #require(throws: ObjectStoreError.self) { try repository.resolve(model: "demo", version: "3") }
        #expect(error.code == .notFound)
        // The next publish takes number 3 and commits it.
        #expect(try publishDemo().version == 3)
    }

    @Test func publishRefusesToOverwrite() throws {
        let first = testBytes(100, seed: 3)
        _ = try publishDemo(version: 1, weights: first)
        let error = try #require(throws: ObjectStoreError.self) {
            try publishDemo(version: 1, weights: testBytes(100, seed: 4))
        }
        #expect(error.code == .alreadyExists)
        #expect(error.message.contains("version 1 already exists"))
        #expect(try repository.resolve(model: "demo", version: "1").read("model.weights").bytes == first)
    }

    @Test func aWrongSha256FailsNamingFileExpectedAndActual() throws {
        let manifest = try publishDemo()
        var bad = testBytes(10_000, seed: 1)
        bad[5000] ^= 0xFF
        try store.put("demo/1/model.weights", bytes: bad, contentType: "application/octet-stream")
        let version = try repository.resolve(model: "demo", version: "1")
        let error = try #require(throws: ObjectStoreError.self) { try version.read("model.weights") }
        #expect(error.code == .integrity)
        #expect(error.message.contains("memory://test/demo/1/model.weights"))
        #expect(error.message.contains("expected \(try #require(manifest.files["model.weights"]).sha256)"))
        #expect(error.message.contains("got \(SHA256Digest.hex(of: bad))"))
    }

    @Test(arguments: [9_000, 10_001])
    func aWrongSizeFailsTheLoad(size: Int) throws {
        _ = try publishDemo()
        try store.put("demo/1/model.weights", bytes: testBytes(size, seed: 1), contentType: "x")
        let version = try repository.resolve(model: "demo", version: "1")
        var delivered = 0
        let error = try #require(throws: ObjectStoreError.self) {
            try version.stream("model.weights") { delivered += $0.count }
        }
        #expect(error.code == .integrity)
        #expect(error.message.contains("size mismatch: expected 10000 bytes"))
        #expect(delivered <= 10_000, "never more bytes than the manifest promises")
    }

    @Test func streamReportsBytesAndConsumerTime() throws {
        _ = try publishDemo()
        // The consumer's slow work (a 1 ms sleep per chunk) is timed by the consumer itself;
        // the stream's account of consumer time must include all of it.
        var consumed: Duration = .zero
        let stats = try repository.resolve(model: "demo", version: "latest").stream("model.weights") { _ in
            consumed += ContinuousClock().measure { Thread.sleep(forTimeInterval: 0.001) }
        }
        #expect(stats.bytes == 10_000)
        let consumedSeconds = Double(consumed.components.seconds) + Double(consumed.components.attoseconds) / 1e18
        #expect(consumedSeconds >= 0.001)
        #expect(stats.consumerSeconds >= consumedSeconds - 1e-6)
        #expect(stats.totalSeconds >= stats.consumerSeconds)
    }

    @Test func unknownFilesAndBadVersionsAreClearErrors() throws {
        _ = try publishDemo()
        let version = try repository.resolve(model: "demo", version: "latest")
        let missing = try #require(throws: ObjectStoreError.self) { try version.entry("model.json") }
        #expect(missing.message.contains("it has: model.cfg, model.weights"))
        for bad in ["0", "-1", "x", "1.5"] {
            #expect(throws: ObjectStoreError.self) { try repository.resolve(model: "demo", version: bad) }
        }
        let none = try #require(throws: ObjectStoreError.self) {
            try repository.resolve(model: "other", version: "latest")
        }
        #expect(none.code == .notFound)
    }

    @Test func aManifestStoredUnderAnotherNumberIsRejected() throws {
        let manifest = try publishDemo()
        try store.put("demo/7/manifest.json", bytes: manifest.encoded(), contentType: "application/json")
        let error = try #require(throws: ObjectStoreError.self) { try repository.resolve(model: "demo", version: "7") }
        #expect(error.code == .malformed)
    }
}

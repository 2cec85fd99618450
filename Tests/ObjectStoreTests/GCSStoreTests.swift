import Foundation
import ObjectStore
import Testing

/// `gs://` against gcp-storage-emulator, and the bearer token from a fake metadata server.
@Suite struct GCSStoreTests {
    let gcs: Fixtures.GCS
    init() throws { gcs = try Fixtures.gcs.get() }

    @Test func putListStatAndRangedGetRoundTrip() throws {
        var store = try gcs.store(prefix: uniqueName("gs"))
        let bytes = testBytes(80_000, seed: 1)
        try store.put("a/one.bin", bytes: bytes, contentType: "application/octet-stream")
        try store.put("a/two.txt", bytes: Array("hi".utf8), contentType: "text/plain")
        try store.put("b/3.bin", bytes: [7], contentType: "application/octet-stream")
        #expect(try store.read("a/one.bin") == bytes)
        #expect(try store.stat("a/one.bin")?.size == 80_000)
        #expect(try store.stat("a/none.bin") == nil)
        #expect(try store.list(prefix: "a/").sorted() == ["a/one.bin", "a/two.txt"])
        store.listPageSize = 1
        #expect(try store.list(prefix: "").sorted() == ["a/one.bin", "a/two.txt", "b/3.bin"])
        var ranged: [UInt8] = []
        try store.get("a/one.bin", range: 5...70_004) { ranged.append(contentsOf: $0) }
        #expect(ranged == Array(bytes[5...70_004]))
        let missing = try #require(throws: ObjectStoreError.self) { try store.read("a/none.bin") }
        #expect(missing.code == .notFound)
    }

    @Test func aModelPublishesResolvesAndStreamsVerified() throws {
        let uri = "gs://\(gcs.bucket)/\(uniqueName("repo"))"
        let repository = try ModelRepository.open(uri, environment: ["STORAGE_EMULATOR_HOST": gcs.endpoint])
        let weights = testBytes(200_000, seed: 2)
        try repository.publish(model: "lstm", format: "lstm-regressor", files: ["model.json": weights])
        #expect(try repository.models() == ["lstm"])
        let version = try repository.resolve(model: "lstm", version: "latest")
        #expect(try version.read("model.json").bytes == weights)
        #expect(throws: ObjectStoreError.self) {
            try repository.publish(model: "lstm", version: 1, format: "lstm-regressor", files: ["model.json": [1]])
        }
    }

    @Test func theMetadataTokenIsFetchedWithTheFlavorHeaderAndCached() throws {
        let metadata = try Fixtures.metadata.get()
        let tokens = GCSTokenProvider(metadataHost: "127.0.0.1:\(metadata.port)")
        let first = try #require(try tokens.token())
        #expect(first.hasPrefix("fake-token-"))
        #expect(try tokens.token() == first, "cached until shortly before it expires")
        tokens.invalidate()
        #expect(try tokens.token() != first)
        // The emulator ignores tokens, but the request with one still works end to end.
        let store = try gcs.store(prefix: uniqueName("tok"), tokens: tokens)
        try store.put("k", bytes: [1], contentType: "application/octet-stream")
        #expect(try store.read("k") == [1])
    }

    @Test func theTokenIsSentAsABearerHeader() throws {
        let metadata = try Fixtures.metadata.get()
        let fault = try Fixtures.fault.get()
        let env = [
            "STORAGE_EMULATOR_HOST": "http://127.0.0.1:\(fault.port)",
            "GCE_METADATA_HOST": "127.0.0.1:\(metadata.port)", "MSCR_STORE_RETRIES": "1",
        ]
        let bucket = uniqueName("bucket")
        let store = try ObjectStores.open("gs://\(bucket)/p", environment: env)
        #expect(throws: ObjectStoreError.self) { try store.read("k") }
        let log = try fault.requests(containing: bucket)
        #expect(log.count == 1)
        #expect(log.first?["authorization"]?.hasPrefix("Bearer fake-token-") == true)
    }

    @Test func anUnreachableMetadataServerIsAClearUnauthorizedError() throws {
        let store = try ObjectStores.open(
            "gs://b/p", environment: ["GCE_METADATA_HOST": "127.0.0.1:1", "STORAGE_EMULATOR_HOST": gcs.endpoint])
        let error = try #require(throws: ObjectStoreError.self) { try store.read("k") }
        #expect(error.code == .unauthorized)
        #expect(error.message.contains("GOOGLE_OAUTH_ACCESS_TOKEN"))
    }

    @Test func aFixedTokenNeedsNoMetadataServer() throws {
        let tokens = GCSTokenProvider(fixed: "abc")
        #expect(try tokens.token() == "abc")
        #expect(try GCSTokenProvider.none.token() == nil)
    }
}

import Foundation
import ObjectStore
import Testing

/// `s3://` against moto with signature checking on (Tests/Support/start_moto.py), using only
/// the IAM key created at start.
@Suite struct S3StoreTests {
    let moto: Fixtures.Moto
    init() throws { moto = try Fixtures.moto.get() }

    @Test func putListStatAndRangedGetRoundTrip() throws {
        let store = try moto.store(prefix: uniqueName("s3") + "/inner")
        let bytes = testBytes(70_000, seed: 1)
        try store.put("a/one.bin", bytes: bytes, contentType: "application/octet-stream")
        try store.put("a/two.txt", bytes: Array("hello".utf8), contentType: "text/plain")
        try store.put("b/three.bin", bytes: [], contentType: "application/octet-stream")
        #expect(try store.read("a/one.bin") == bytes)
        #expect(try store.read("b/three.bin") == [])
        #expect(try store.stat("a/one.bin")?.size == 70_000)
        #expect(try store.stat("a/one.bin")?.etag != nil)
        #expect(try store.stat("a/missing.bin") == nil)
        #expect(try store.list(prefix: "a/").sorted() == ["a/one.bin", "a/two.txt"])
        #expect(try store.list(prefix: "").sorted() == ["a/one.bin", "a/two.txt", "b/three.bin"])
        var ranged: [UInt8] = []
        try store.get("a/one.bin", range: 1000...1999) { ranged.append(contentsOf: $0) }
        #expect(ranged == Array(bytes[1000...1999]))
        let missing = try #require(throws: ObjectStoreError.self) { try store.read("a/missing.bin") }
        #expect(missing.code == .notFound)
        #expect(missing.message.contains("s3://mscr-test/"))
    }

    @Test func listingFollowsContinuationTokens() throws {
        var store = try moto.store(prefix: uniqueName("pages"))
        store.listPageSize = 2
        let keys = (0..<5).map { "k/\($0).bin" }
        for key in keys { try store.put(key, bytes: [1], contentType: "application/octet-stream") }
        #expect(try store.list(prefix: "k/").sorted() == keys)
    }

    @Test func aModelPublishesResolvesAndStreamsVerified() throws {
        let uri = "s3://\(moto.bucket)/\(uniqueName("repo"))"
        let repository = try ModelRepository.open(uri, environment: moto.environment())
        let weights = testBytes(300_000, seed: 2)
        try repository.publish(
            model: "yolo", format: "darknet-yolo", files: ["model.weights": weights, "model.cfg": Array("[net]".utf8)])
        try repository.publish(model: "yolo", format: "darknet-yolo", files: ["model.weights": weights.reversed()])
        #expect(try repository.models() == ["yolo"])
        #expect(try repository.versions(of: "yolo") == [1, 2])
        let version = try repository.resolve(model: "yolo", version: "1")
        var received = 0
        let stats = try version.stream("model.weights") { received += $0.count }
        #expect(received == weights.count && stats.bytes == weights.count)
        #expect(
            try repository.resolve(model: "yolo", version: "latest").read("model.weights").bytes == weights.reversed())
        let again = try #require(throws: ObjectStoreError.self) {
            try repository.publish(model: "yolo", version: 2, format: "darknet-yolo", files: ["x": [1]])
        }
        #expect(again.code == .alreadyExists)
    }

    @Test func aTamperedObjectFailsVerification() throws {
        let store = try moto.store(prefix: uniqueName("tamper"))
        let repository = ModelRepository(store: store)
        try repository.publish(model: "m", format: "x", files: ["model.weights": testBytes(5000, seed: 3)])
        try store.put("m/1/model.weights", bytes: testBytes(5000, seed: 4), contentType: "application/octet-stream")
        let error = try #require(throws: ObjectStoreError.self) {
            try repository.resolve(model: "m", version: "latest").read("model.weights")
        }
        #expect(error.code == .integrity)
        #expect(error.message.contains("sha256 mismatch"))
    }

    @Test func aWrongSecretIsRefusedAsUnauthorized() throws {
        let good = try moto.store(prefix: uniqueName("auth"))
        try good.put("x.bin", bytes: [1, 2, 3], contentType: "application/octet-stream")
        let bad = try moto.store(prefix: good.prefix, secret: "not-the-secret")
        let read = try #require(throws: ObjectStoreError.self) { try bad.read("x.bin") }
        #expect(read.code == .unauthorized)
        #expect(read.message.contains("HTTP 403"))
        #expect(read.message.contains("SignatureDoesNotMatch"))
        #expect(!read.message.contains("not-the-secret"))
        let write = try #require(throws: ObjectStoreError.self) { try bad.put("y.bin", bytes: [1], contentType: "x") }
        #expect(write.code == .unauthorized)
        #expect(throws: ObjectStoreError.self) { try bad.list(prefix: "") }
        let anonymous = try S3ObjectStore(
            bucket: moto.bucket, prefix: good.prefix, endpoint: moto.endpoint, credentials: nil,
            configuration: testTransport())
        #expect(throws: ObjectStoreError.self) { try anonymous.read("x.bin") }
    }

    @Test func environmentSelectsEndpointRegionAndKeys() throws {
        let store = try #require(
            try ObjectStores.open("s3://\(moto.bucket)/env/p", environment: moto.environment()) as? S3ObjectStore)
        #expect(store.uri == "s3://\(moto.bucket)/env/p")
        #expect(store.region == "us-east-1")
        try store.put("k", bytes: [9], contentType: "application/octet-stream")
        #expect(try store.read("k") == [9])
        #expect(throws: ObjectStoreError.self) { try ObjectStores.open("s3://", environment: [:]) }
        #expect(throws: ObjectStoreError.self) { try ObjectStores.open("s3://b/../x", environment: [:]) }
    }
}

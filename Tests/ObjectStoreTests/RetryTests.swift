import Foundation
import ObjectStore
import Testing

/// Retries, deadlines and resumption against the fault-injecting server (Tests/Support/fault_server.py).
@Suite struct RetryTests {
    let server: ServerProcess
    init() throws { server = try Fixtures.fault.get() }

    /// Uploads `bytes` under a fresh key and returns it.
    func object(_ bytes: [UInt8], stem: String = "obj") throws -> String {
        let key = uniqueName(stem) + "/data.bin"
        try server.upload(key, bytes)
        return key
    }

    @Test func transient503sAreRetriedThenSucceed() throws {
        let bytes = testBytes(100_000, seed: 1)
        let key = try object(bytes)
        let got = try server.store("flaky-2").read(key)
        #expect(got == bytes)
        let log = try server.requests(containing: "/flaky-2/" + key)
        #expect(log.count == 3, "two 503s, then the answer")
    }

    @Test func tooManyRequestsIsRetried() throws {
        let bytes = testBytes(1000, seed: 2)
        let key = try object(bytes)
        #expect(try server.store("busy-1").read(key) == bytes)
    }

    @Test func persistent503sFailNamingURIStatusAndAttempts() throws {
        let key = try object(testBytes(10, seed: 3))
        let store = try server.store("flaky-100", transport: testTransport(attempts: 3))
        let error = try #require(throws: ObjectStoreError.self) { try store.read(key) }
        #expect(error.code == .httpStatus)
        #expect(error.message.contains("http://127.0.0.1:\(server.port)/flaky-100/\(key)"))
        #expect(error.message.contains("HTTP 503"))
        #expect(error.message.contains("after 3 attempts"))
        #expect(try server.requests(containing: "/flaky-100/" + key).count == 3)
    }

    @Test func aStallHitsTheDeadlineWithAClearError() throws {
        let key = try object(testBytes(200_000, seed: 4))
        let store = try server.store("stall", transport: testTransport(attempts: 10, deadline: 3, stall: 1))
        let start = Date()
        let error = try #require(throws: ObjectStoreError.self) { try store.read(key) }
        let elapsed = Date().timeIntervalSince(start)
        #expect(error.code == .transport)
        #expect(error.message.contains("stalled (no bytes for 1 s)"))
        #expect(error.message.contains("deadline of 3 s reached"))
        #expect(error.message.contains("/stall/\(key)"))
        #expect(elapsed < 6, "the deadline bounds the whole operation")
    }

    @Test func aStalledTransferResumesFromTheOffsetReached() throws {
        let bytes = testBytes(300_000, seed: 5)
        let key = try object(bytes)
        let store = try server.store("stall-1", transport: testTransport(deadline: 10, stall: 1))
        #expect(try store.read(key) == bytes)
        let log = try server.requests(containing: "/stall-1/" + key)
        #expect(log.count == 2)
        #expect(log.last?["range"] == "bytes=150000-")
    }

    @Test(arguments: [nil, 1000...249_999] as [ClosedRange<Int>?])
    func aBrokenTransferResumesAndTheConsumerSeesEveryByteOnce(range: ClosedRange<Int>?) throws {
        let bytes = testBytes(250_000, seed: 6)
        let key = try object(bytes)
        var seen: [UInt8] = []
        try server.store("cut-1").get(key, range: range) { seen.append(contentsOf: $0) }
        let wanted = range.map { Array(bytes[$0]) } ?? bytes
        #expect(seen == wanted)
        let log = try server.requests(containing: "/cut-1/" + key)
        #expect(log.count == 2)
        let resumedAt = (range?.lowerBound ?? 0) + wanted.count / 2
        #expect(log.last?["range"]?.hasPrefix("bytes=\(resumedAt)-") == true)
        #expect(log.last?["if_match"] != nil, "the resumed request is pinned to the same object version")
    }

    @Test func anObjectThatChangesMidTransferFailsInsteadOfMixingVersions() throws {
        let key = try object(testBytes(100_000, seed: 10))
        let error = try #require(throws: ObjectStoreError.self) { try server.store("mutate-1").read(key) }
        #expect(error.code == .transport)
        #expect(error.message.contains("HTTP 412 (the object changed during the transfer)"))
    }

    @Test func aServerIgnoringRangeStillGivesTheRangeExactly() throws {
        let bytes = testBytes(50_000, seed: 7)
        let key = try object(bytes)
        var seen: [UInt8] = []
        try server.store("norange").get(key, range: 100...20_099) { seen.append(contentsOf: $0) }
        #expect(seen == Array(bytes[100...20_099]))
    }

    @Test func alwaysBrokenTransfersFailAfterTheAttempts() throws {
        let key = try object(testBytes(100_000, seed: 8))
        let store = try server.store("cut", transport: testTransport(attempts: 3))
        let error = try #require(throws: ObjectStoreError.self) { try store.read(key) }
        #expect(error.code == .transport)
        #expect(error.message.contains("after 3 attempts"))
    }

    @Test func aConsumerErrorAbortsAndIsRethrownWithoutRetry() throws {
        struct Stop: Error {}
        let key = try object(testBytes(500_000, seed: 9))
        var calls = 0
        #expect(throws: Stop.self) {
            try server.store("flaky-0").get(key) { _ in
                calls += 1
                throw Stop()
            }
        }
        #expect(calls == 1)
        #expect(try server.requests(containing: "/flaky-0/" + key).count == 1)
    }

    @Test func missingObjectsAreNotFoundAndNotRetried() throws {
        let key = uniqueName("missing") + "/x.bin"
        let store = try server.store("ok")
        let error = try #require(throws: ObjectStoreError.self) { try store.read(key) }
        #expect(error.code == .notFound)
        #expect(try store.stat(key) == nil)
        #expect(try server.requests(containing: "/ok/" + key).count == 2)
    }

    @Test func connectionRefusedIsATransportErrorAfterRetries() throws {
        let store = try HTTPObjectStore(root: "http://127.0.0.1:1/models", configuration: testTransport(attempts: 2))
        let error = try #require(throws: ObjectStoreError.self) { try store.read("a/1/manifest.json") }
        #expect(error.code == .transport)
        #expect(error.message.contains("after 2 attempts"))
    }
}

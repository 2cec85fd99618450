import Foundation
import Synchronization
import Testing

@testable import Functions
@testable import ObjectStore

@Suite("Hot swap to a newer model version")
struct HotSwapTests {
    @Test("a reload under load swaps atomically: no request fails, in-flight ones finish on the old model")
    func swapUnderLoad() async throws {
        let kind = CountingKind()
        let (_, repo) = try makeRepository(versions: [1])
        let host = try makeHost(kind: kind, repository: repo, concurrency: 16, workers: 8)
        _ = try await host.invoke("f", TestRequest())
        try repo.publish(model: "m", format: "test", files: ["model.txt": Array("v2".utf8)])
        let reloaded = SharedCount()  // 1 once the reload has returned
        let (held, streams) = try await withThrowingTaskGroup(of: (held: [String], stream: [String]).self) { group in
            // Four requests in flight on version 1, held at the gate through the whole swap.
            for _ in 0..<4 {
                group.addTask {
                    let (r, _) = try await host.invoke("f", TestRequest(query: ["gate": ""]))
                    return ([r.text], [])
                }
            }
            defer { kind.requestGate.open() }  // also when something fails, so the group can end
            try await waitUntil("four requests in flight") { kind.requestGate.waiting == 4 }
            // Four streams of requests run before, during and after the reload; a request that
            // starts after the reload has returned must see version 2.
            for _ in 0..<4 {
                group.addTask {
                    var seen: [String] = []
                    for _ in 0..<30 {
                        let after = reloaded.value > 0
                        let (r, _) = try await host.invoke("f", TestRequest())
                        #expect(!after || r.text == "2:v2", "a request after the swap answered \(r.text)")
                        seen.append(r.text)
                    }
                    return ([], seen)
                }
            }
            let outcome = try await host.reload("f")
            reloaded.add()
            #expect(outcome == .swapped(from: 1, to: 2))
            kind.requestGate.open()
            return try await group.reduce(into: ([String](), [String]())) {
                $0.0 += $1.held
                $0.1 += $1.stream
            }
        }
        #expect(
            held == Array(repeating: "1:v1", count: 4), "requests in flight during the swap finish on the old model")
        #expect(streams.count == 120)
        #expect(streams.allSatisfy { $0 == "1:v1" || $0 == "2:v2" })
        let (after, _) = try await host.invoke("f", TestRequest())
        #expect(after.text == "2:v2")
        #expect(try await host.reload("f") == .unchanged(version: 2))
    }

    @Test("a version that fails to load leaves the old one serving, reported in the status")
    func failedSwapKeepsOld() async throws {
        let kind = CountingKind()
        let (store, repo) = try makeRepository(versions: [1])
        let host = try makeHost(kind: kind, repository: repo)
        _ = try await host.invoke("f", TestRequest())
        // Version 2's manifest promises bytes the store does not have.
        try repo.publish(model: "m", format: "test", files: ["model.txt": Array("v2".utf8)])
        try store.put("m/2/model.txt", bytes: Array("tampered".utf8), contentType: "text/plain")
        await #expect(throws: (any Error).self) { _ = try await host.reload("f") }
        let (r, _) = try await host.invoke("f", TestRequest())
        #expect(r.text == "1:v1")
        let status = host.status()[0]
        #expect(status.version == 1)
        #expect(status.error?.contains("still serving version 1") == true)
    }

    @Test("the poller finds a newer version and swaps")
    func pollSwaps() async throws {
        let kind = CountingKind()
        let (_, repo) = try makeRepository(versions: [1])
        let host = try makeHost(kind: kind, repository: repo)
        #expect(await host.pollVersions().isEmpty, "cold functions are not polled")
        _ = try await host.invoke("f", TestRequest())
        #expect(await host.pollVersions().isEmpty)
        try repo.publish(model: "m", format: "test", files: ["model.txt": Array("v2".utf8)])
        let results = await host.pollVersions()
        #expect(results.count == 1)
        let (r, _) = try await host.invoke("f", TestRequest())
        #expect(r.text == "2:v2")
    }

    @Test("an explicit version loads beside the serving one")
    func pinnedVersion() async throws {
        let kind = CountingKind()
        let (_, repo) = try makeRepository(versions: [1, 2])
        let host = try makeHost(kind: kind, repository: repo)
        let (latest, _) = try await host.invoke("f", TestRequest())
        #expect(latest.text == "2:v2")
        let (old, timing) = try await host.invoke("f", TestRequest(), version: 1)
        #expect(old.text == "1:v1")
        #expect(timing.coldMs != nil)
        await #expect(throws: FunctionError.self) {
            _ = try await host.invoke("f", TestRequest(), version: 9)
        }
        #expect(host.status()[0].version == 2)
    }
}

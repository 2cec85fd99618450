import Foundation
import Synchronization
import Testing

@testable import Functions
@testable import ObjectStore

@Suite("Function host: lazy loads, single flight, limits")
struct FunctionHostTests {
    @Test("20 concurrent first requests cause exactly one load")
    func singleFlight() async throws {
        // The load is held until all 20 requests have reached the function, so every one of
        // them arrives while it is cold.
        let loadGate = TestGate()
        let kind = CountingKind(loadGate: loadGate)
        let (_, repo) = try makeRepository()
        let host = try makeHost(kind: kind, repository: repo, concurrency: 20)
        #expect(host.status()[0].state == .cold)
        let results = try await withThrowingTaskGroup(of: (String, Double?).self) { group in
            for _ in 0..<20 {
                group.addTask {
                    let (r, timing) = try await host.invoke("f", TestRequest())
                    return (r.text, timing.coldMs)
                }
            }
            defer { loadGate.open() }  // also when the wait fails, so the group can end
            try await waitUntil("20 requests at the function") { host.status()[0].requests == 20 }
            #expect(host.status()[0].state == .loading)
            loadGate.open()
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(kind.loads.withLock { $0 } == 1)
        #expect(results.count == 20)
        #expect(results.allSatisfy { $0.0 == "1:v1" })
        #expect(results.allSatisfy { $0.1 != nil }, "every first request waited on the load")
        let status = host.status()[0]
        #expect(status.state == .warm)
        #expect(status.loads == 1)
        let manifestBytes = try repo.store.read("m/1/manifest.json").count
        #expect(status.load?.bytes == 2 + manifestBytes, "the model file and its manifest were fetched once")
        // Warm now: no cold wait.
        let (_, timing) = try await host.invoke("f", TestRequest())
        #expect(timing.coldMs == nil)
        #expect(timing.load == nil)
        #expect(timing.inferMs > 0 && timing.totalMs >= timing.inferMs + timing.queueMs)
    }

    @Test("a failed load answers 503 with Retry-After, and a later request loads once the cause is gone")
    func failedLoadRecovers() async throws {
        let kind = CountingKind()
        kind.failing.withLock { $0 = true }
        let (_, repo) = try makeRepository()
        let host = try makeHost(kind: kind, repository: repo, retryBaseSeconds: 0.5)
        await #expect(throws: FunctionError.self) { try await host.invoke("f", TestRequest()) }
        do {
            _ = try await host.invoke("f", TestRequest())
            Issue.record("expected a 503")
        } catch let e as FunctionError {
            #expect(e.code == .unavailable)
            #expect((e.retryAfter ?? 0) >= 1)
            #expect(e.message.contains("injected load failure"))
        }
        #expect(kind.loads.withLock { $0 } == 1, "a request during the backoff does not load again")
        #expect(host.status()[0].state == .failed)
        kind.failing.withLock { $0 = false }
        // The backoff (0.5 s here) ends on its own: retry as a client would until it does.
        var answer: (TestAnswer, CallTiming)?
        try await waitUntil("the backoff to end") {
            answer = try? await host.invoke("f", TestRequest())
            return answer != nil
        }
        let (r, timing) = try #require(answer)
        #expect(kind.loads.withLock { $0 } == 2, "the next request after the backoff loaded once")
        #expect(r.text == "1:v1")
        #expect(timing.coldMs != nil)
        #expect(host.status()[0].state == .warm)
        #expect(host.status()[0].error == nil)
    }

    @Test("a missing model is a 503 naming the model")
    func missingModel() async throws {
        let kind = CountingKind()
        let (_, repo) = try makeRepository(versions: [])
        let host = try makeHost(kind: kind, repository: repo)
        do {
            _ = try await host.invoke("f", TestRequest())
            Issue.record("expected failure")
        } catch let e as FunctionError {
            #expect(e.code == .unavailable)
            #expect(e.message.contains("'m'"))
        }
    }

    @Test("past the concurrency limit and the queue, requests get overloaded (429)")
    func overload() async throws {
        let kind = CountingKind()
        let (_, repo) = try makeRepository()
        let host = try makeHost(kind: kind, repository: repo, concurrency: 1, queueDepth: 1)
        _ = try await host.invoke("f", TestRequest())  // warm
        // The first request holds the one slot until the gate opens; the second waits in the
        // one queue place; the other four are turned away while both are still there.
        let turnedAway = SharedCount()
        let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<6 {
                group.addTask {
                    do {
                        _ = try await host.invoke("f", TestRequest(query: ["gate": ""]))
                        return "ok"
                    } catch let e as FunctionError {
                        let overloaded = e.code == .overloaded && e.retryAfter != nil
                        if overloaded { turnedAway.add() }
                        return overloaded ? "429" : "other \(e)"
                    } catch {
                        return "other \(error)"
                    }
                }
            }
            defer { kind.requestGate.open() }  // also when the wait fails, so the group can end
            try await waitUntil("four requests turned away and one running") {
                turnedAway.value == 4 && kind.requestGate.waiting == 1
            }
            kind.requestGate.open()
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == "ok" }.count == 2, "one running and one queued: \(outcomes)")
        #expect(outcomes.filter { $0 == "429" }.count == 4, "\(outcomes)")
        #expect(host.load.active == 0)
    }

    @Test("an oversize body is refused before any work")
    func payloadTooLarge() async throws {
        let kind = CountingKind()
        let (_, repo) = try makeRepository()
        let host = try makeHost(kind: kind, repository: repo)
        do {
            _ = try await host.invoke("f", TestRequest(body: Array(repeating: 0, count: 1001)))
            Issue.record("expected 413")
        } catch let e as FunctionError {
            #expect(e.code == .payloadTooLarge)
        }
        #expect(kind.loads.withLock { $0 } == 0)
    }

    @Test("a request past its deadline times out and its slot is freed when the work ends", .timeLimit(.minutes(1)))
    func deadline() async throws {
        let kind = CountingKind()
        let (_, repo) = try makeRepository()
        let host = try makeHost(kind: kind, repository: repo, concurrency: 1, timeout: .milliseconds(600))
        try await host.warm(["f"])  // outside any deadline
        // The work waits on a gate the test opens only after the caller has its answer, so the
        // answer came at the deadline and not when the work ended. (Should the deadline never
        // come, the test's time limit fails it instead of letting it hang.)
        do {
            _ = try await host.invoke("f", TestRequest(query: ["gate": ""]))
            Issue.record("expected a timeout")
        } catch let e as FunctionError {
            #expect(e.code == .timeout)
        }
        try await waitUntil("the work to be running") { kind.requestGate.waiting == 1 }
        #expect(host.load.active == 1, "the timed-out work still holds its slot")
        kind.requestGate.open()
        try await waitUntil("the slot to be freed") { host.load.active == 0 }
    }

    @Test("unknown function is not found")
    func unknownFunction() async throws {
        let (_, repo) = try makeRepository()
        let host = try makeHost(kind: CountingKind(), repository: repo)
        do {
            _ = try await host.invoke("nope", TestRequest())
            Issue.record("expected not found")
        } catch let e as FunctionError {
            #expect(e.code == .notFound)
        }
    }
}

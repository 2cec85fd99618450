import Synchronization
import Testing

@testable import Functions
@testable import ObjectStore

/// Two reloads of one function under a deterministic interleaving: the first is held right after
/// its decision, the second decides while the first has not finished.
@Suite struct ReloadRaceTests {
    @Test("a reload that arrives while another is deciding joins it: one load, both see the same swap")
    func concurrentReloadsJoin() async throws {
        let kind = CountingKind()
        let (_, repo) = try makeRepository(versions: [1])
        let pool = WorkPool(threads: 2)
        let (held, release) = AsyncStream<Void>.makeStream()
        let steps = Mutex<[String]>([])
        let config = FunctionConfig(
            name: "f", kind: "counting", model: "m", limits: .init(maxBodyBytes: 1000, maxPixels: 0, concurrency: 4))
        let slot = FunctionSlot<CountingKind.Loaded>(
            config: config, kind: kind, repository: repo, loadPool: pool, queueDepth: 8, retryBaseSeconds: 0.1,
            onLoad: { _, _ in },
            afterReloadDecision: { step in
                let first = steps.withLock { s in
                    s.append(step)
                    return s.count == 1
                }
                if first { for await _ in held { break } }  // the first reload waits here
            })
        _ = try await slot.acquire()
        try repo.publish(model: "m", format: "test", files: ["model.txt": Array("v2".utf8)])

        let first = Task { try await slot.reload() }
        try await waitUntil(timeout: .seconds(10)) { steps.withLock { $0.count } == 1 }
        let second = Task { try await slot.reload() }
        try await waitUntil(timeout: .seconds(10)) { steps.withLock { $0.count } == 2 }
        release.yield()
        release.finish()

        #expect(try await first.value == .swapped(from: 1, to: 2))
        #expect(try await second.value == .swapped(from: 1, to: 2))
        #expect(steps.withLock { $0 } == ["start", "join"])
        #expect(kind.loads.withLock { $0 } == 2)  // the cold load and one reload
        #expect(slot.status.version == 2)
        await pool.shutdown()
    }
}

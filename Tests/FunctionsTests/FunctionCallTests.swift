import Foundation
import Testing

@testable import Functions
@testable import ObjectStore

/// What the host tells a call: the caller's closure gets the loaded function and a
/// ``FunctionCall`` with the version answering, the deadline and the cold load it waited for.
@Suite struct FunctionCallTests {
    @Test("a cold call gets the load it waited for; a warm one none; an explicit version is the one answering")
    func callContext() async throws {
        let (_, repo) = try makeRepository(versions: [1, 2])
        let host = try makeHost(kind: CountingKind(), repository: repo, timeout: .seconds(30))
        let before = ContinuousClock.now
        let (cold, coldTiming) = try await host.call("f") { function, call in (function.text, call) }
        #expect(cold.0 == "v2")
        #expect(cold.1.version == 2)
        #expect(cold.1.timing.coldMs != nil && cold.1.timing.load?.version == 2)
        #expect(cold.1.timing.coldMs == coldTiming.coldMs, "the call saw the timing the host reports")
        #expect(cold.1.deadline > before && cold.1.deadline <= ContinuousClock.now.advanced(by: .seconds(30)))

        let (warm, _) = try await host.call("f") { _, call in call }
        #expect(warm.version == 2 && warm.timing.coldMs == nil && warm.timing.load == nil)

        let (pinned, _) = try await host.call("f", version: 1) { function, call in (function.version, call) }
        #expect(pinned.0 == 1 && pinned.1.version == 1)
        #expect(pinned.1.timing.load?.version == 1, "version 1 was loaded for this call")
        await host.shutdown()
    }

    @Test("a caller's shorter timeout is the call's deadline")
    func callerTimeout() async throws {
        let (_, repo) = try makeRepository()
        let host = try makeHost(kind: CountingKind(), repository: repo, timeout: .seconds(60))
        // Warm first and leave 10 s: a loaded machine must not time the call out, and the host's
        // 60 s would put the deadline past `now + 10 s`.
        try await host.warm(["f"])
        let (deadline, _) = try await host.call("f", timeout: .seconds(10)) { _, call in call.deadline }
        #expect(deadline <= ContinuousClock.now.advanced(by: .seconds(10)))
        await host.shutdown()
    }
}

import Dispatch
import Synchronization
import Testing

@testable import Functions
@testable import ObjectStore

/// A kind whose models claim `megabytes` of memory and whose requests can be held open.
final class SizedKind: FunctionKind, @unchecked Sendable {
    let kind = "sized"
    let megabytes: Int
    /// Requests with `?hold` wait here until the test signals.
    let held = DispatchSemaphore(value: 0)

    init(megabytes: Int) { self.megabytes = megabytes }

    func memoryEstimate(config: FunctionConfig, manifest: Manifest) -> Int { megabytes << 20 }

    func load(config: FunctionConfig, model: ModelVersion) throws -> Loaded {
        Loaded(name: config.name, held: held)
    }

    func memoryBytes(of loaded: Loaded) -> Int? { nil }

    struct Loaded: TestAnswering, @unchecked Sendable {
        let name: String
        let held: DispatchSemaphore
        func answer(_ request: TestRequest) throws -> TestAnswer {
            if request.query["hold"] != nil { held.wait() }
            return TestAnswer(body: Array(name.utf8))
        }
    }
}

@Suite struct MemoryBudgetTests {
    let evicted = Shared<[String]>([])

    func host(_ kind: SizedKind, functions: Int, limitMB: Int) throws -> FunctionHost<SizedKind.Loaded> {
        let (_, repo) = try makeRepository(versions: [1])
        var settings = FunctionHostSettings()
        settings.memoryLimit = limitMB << 20
        settings.workers = 4
        settings.retryBaseSeconds = 5
        let configs = (1...functions).map { i in
            FunctionConfig(
                name: "f\(i)", kind: "sized", model: "m", limits: .init(maxBodyBytes: 100, maxPixels: 0, concurrency: 2)
            )
        }
        let evicted = self.evicted
        return try FunctionHost<SizedKind.Loaded>(
            configs: configs, kinds: [kind], repository: repo, settings: settings,
            onEvict: { config, _ in evicted.mutate { $0.append(config.name) } })
    }

    func warm(_ host: FunctionHost<SizedKind.Loaded>) -> [String] {
        host.status().filter { $0.state == .warm }.map(\.name)
    }

    @Test("six functions, room for two: each load evicts the least recently used idle one")
    func leastRecentlyUsedIsEvicted() async throws {
        let host = try host(SizedKind(megabytes: 100), functions: 6, limitMB: 250)
        for name in ["f1", "f2"] { _ = try await host.invoke(name, TestRequest()) }
        #expect(warm(host) == ["f1", "f2"] && evicted.value == [])
        _ = try await host.invoke("f3", TestRequest())
        #expect(warm(host) == ["f2", "f3"] && evicted.value == ["f1"])
        _ = try await host.invoke("f2", TestRequest())  // f2 is now the most recent
        _ = try await host.invoke("f4", TestRequest())
        #expect(warm(host) == ["f2", "f4"] && evicted.value == ["f1", "f3"])
        for name in ["f5", "f6", "f1"] { _ = try await host.invoke(name, TestRequest()) }
        #expect(warm(host).count == 2)
        #expect(host.budget.charges.values.reduce(0, +) <= 250 << 20)
        #expect(host.status().first { $0.name == "f1" }?.evictions == 1)
        #expect(
            host.status().first { $0.name == "f1" }?.loads == 2, "an evicted function loads again on its next request")
        await host.shutdown()
    }

    @Test("when every loaded function is busy the load is refused with 503 + Retry-After, and no backoff follows")
    func busyFunctionsAreNotEvicted() async throws {
        let kind = SizedKind(megabytes: 100)
        let host = try host(kind, functions: 3, limitMB: 250)
        let first = Task { try await host.invoke("f1", TestRequest(query: ["hold": "1"])) }
        let second = Task { try await host.invoke("f2", TestRequest(query: ["hold": "1"])) }
        try await waitUntil(timeout: .seconds(30)) { host.load.active == 2 && warm(host).count == 2 }

        let error = try await #require(throws: FunctionError.self) {
            _ = try await host.invoke("f3", TestRequest())
        }
        #expect(error.code == .unavailable && error.retryAfter == 1)
        #expect(
            error.message.contains("no memory for function 'f3'") && error.message.contains("f1")
                && error.message.contains("f2"))
        #expect(host.status().first { $0.name == "f3" }?.state == .cold, "a refusal is not a failed load")

        kind.held.signal()
        kind.held.signal()
        _ = try await first.value
        _ = try await second.value
        let (answer, _) = try await host.invoke("f3", TestRequest())
        #expect(answer.text == "f3", "no backoff after a refusal: the next request loads")
        #expect(evicted.value.count == 1)
        await host.shutdown()
    }

    @Test(
        "a swap is charged the old and the new model until it is done: it evicts an idle function, or fails and the old one keeps serving"
    )
    func swapsAreCharged() async throws {
        let kind = SizedKind(megabytes: 100)
        let (_, repo) = try makeRepository(versions: [1])
        var settings = FunctionHostSettings()
        settings.memoryLimit = 250 << 20
        settings.workers = 4
        let configs = ["f1", "f2"].map {
            FunctionConfig(
                name: $0, kind: "sized", model: "m", limits: .init(maxBodyBytes: 100, maxPixels: 0, concurrency: 2))
        }
        let evicted = self.evicted
        let host = try FunctionHost<SizedKind.Loaded>(
            configs: configs, kinds: [kind], repository: repo, settings: settings,
            onEvict: { config, _ in evicted.mutate { $0.append(config.name) } })
        for name in ["f1", "f2"] { _ = try await host.invoke(name, TestRequest()) }
        try repo.publish(model: "m", format: "test", files: ["model.txt": Array("v2".utf8)])
        #expect(try await host.reload("f1") == .swapped(from: 1, to: 2))
        #expect(evicted.value == ["f2"], "100 serving + 100 new + f2's 100 did not fit in 250")
        #expect(host.budget.charges == ["f1": 100 << 20], "after the swap only the new model is charged")

        _ = try await host.invoke("f2", TestRequest())  // f2 back: 200 of 250
        let held = Task { try await host.invoke("f2", TestRequest(query: ["hold": "1"])) }
        try await waitUntil(timeout: .seconds(10)) { host.load.active == 1 }
        try repo.publish(model: "m", format: "test", files: ["model.txt": Array("v3".utf8)])
        let error = try await #require(throws: FunctionError.self) { _ = try await host.reload("f1") }
        #expect(error.message.contains("no memory for function 'f1'"), "\(error.message)")
        #expect(host.status().first { $0.name == "f1" }?.version == 2, "the old version keeps serving")
        #expect(host.budget.charges == ["f1": 100 << 20, "f2": 100 << 20])
        kind.held.signal()
        _ = try await held.value
        await host.shutdown()
    }

    @Test("a model larger than the whole budget is refused, naming MSCR_MEMORY_LIMIT")
    func tooLargeForTheBudget() async throws {
        let host = try host(SizedKind(megabytes: 300), functions: 1, limitMB: 250)
        let error = try await #require(throws: FunctionError.self) {
            _ = try await host.invoke("f1", TestRequest())
        }
        #expect(error.code == .unavailable && error.message.contains("MSCR_MEMORY_LIMIT"))
        await host.shutdown()
    }

    @Test("MSCR_MEMORY_LIMIT accepts bytes, SI and binary suffixes, and none")
    func parsing() {
        #expect(MemoryBudget.parse("1500000000") == .some(1_500_000_000))
        #expect(MemoryBudget.parse("1500M") == .some(1_500_000_000))
        #expect(MemoryBudget.parse("1.5Gi") == .some(1_610_612_736))
        #expect(MemoryBudget.parse("512Ki") == .some(524_288))
        #expect(MemoryBudget.parse("none") == .some(nil))
        for bad in ["", "lots", "-5M", "0", "12Q"] { #expect(MemoryBudget.parse(bad) == nil, "\(bad)") }
    }
}

import Testing

@testable import Functions
@testable import ObjectStore

@Suite("A function that follows the 'stable' alias")
struct AliasSwapTests {
    @Test("pin and rollback are picked up by the poller under load, with no failed request")
    func pinAndRollbackUnderLoad() async throws {
        let kind = CountingKind()
        let (_, repo) = try makeRepository(versions: [1, 2, 3])
        try repo.pin(model: "m", version: 1)
        var settings = FunctionHostSettings()
        settings.workers = 4
        let config = FunctionConfig(
            name: "f", kind: "counting", model: "m", version: "stable",
            limits: .init(maxBodyBytes: 1000, maxPixels: 0, concurrency: 8))
        let host = try CountingHost(configs: [config], kinds: [kind], repository: repo, settings: settings)
        #expect(try await host.invoke("f", TestRequest()).0.text == "1:v1", "stable, not latest")
        #expect(host.status()[0].follows == "stable" && host.status()[0].version == 1)

        let done = Shared(false)
        let answers = try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    var seen: [String] = []
                    while !done.value {
                        seen.append(try await host.invoke("f", TestRequest()).0.text)
                    }
                    return seen
                }
            }
            group.addTask {
                defer { done.mutate { $0 = true } }
                #expect(try await Self.poll(host) == [], "a newer commit does not move a pinned alias")
                try repo.pin(model: "m", version: 3)
                #expect(try await Self.poll(host) == [.success(.swapped(from: 1, to: 3))])
                try repo.rollback(model: "m")
                #expect(try await Self.poll(host) == [.success(.swapped(from: 3, to: 1))])
                #expect(try await Self.poll(host) == [], "nothing to do once the alias is served")
                return []
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(answers.allSatisfy { ["1:v1", "3:v3"].contains($0) }, "every request answered by a served version")
        #expect(host.status()[0].version == 1)
        await host.shutdown()
    }

    enum Outcome: Equatable {
        case success(ReloadOutcome)
        case failure(String)
    }

    static func poll(_ host: CountingHost) async throws -> [Outcome] {
        await host.pollVersions().map { _, result in
            switch result {
            case .success(let outcome): .success(outcome)
            case .failure(let error): .failure(error.message)
            }
        }
    }
}

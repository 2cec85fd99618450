import Testing

@testable import ObjectStore

@Suite struct ModelAliasTests {
    func repository(versions: Int) throws -> ModelRepository {
        let repo = ModelRepository(store: MemoryObjectStore())
        for v in 1...versions {
            try repo.publish(model: "m", version: v, format: "test", files: ["model.txt": Array("v\(v)".utf8)])
        }
        return repo
    }

    @Test("pin writes the alias, resolve follows it, and rollback steps back through the pins")
    func pinAndRollBack() throws {
        let repo = try repository(versions: 3)
        #expect(try repo.alias("stable", of: "m") == nil)
        try repo.pin(model: "m", version: 1)
        #expect(try repo.resolve(model: "m", version: "stable").version == 1)
        try repo.pin(model: "m", version: 3)
        try repo.pin(model: "m", version: 2)
        #expect(try repo.alias("stable", of: "m")?.history == [1, 3])
        #expect(try repo.resolve(model: "m", version: "stable").version == 2)
        #expect(try repo.resolve(model: "m", version: "latest").version == 3, "latest is untouched")

        #expect(try repo.rollback(model: "m").version == 3)
        #expect(try repo.rollback(model: "m").version == 1)
        #expect(try repo.alias("stable", of: "m")?.history == [])
        #expect(try repo.resolve(model: "m", version: "stable").version == 1)
    }

    @Test("with no history, rollback goes to the highest committed version below the current one")
    func rollbackWithoutHistory() throws {
        let repo = try repository(versions: 3)
        try repo.pin(model: "m", version: 3)
        #expect(try repo.rollback(model: "m").version == 2)
        #expect(try repo.rollback(model: "m").version == 1)
        let error = try #require(throws: ObjectStoreError.self) { try repo.rollback(model: "m") }
        #expect(error.code == .notFound && error.message.contains("no version before 1"))
    }

    @Test(
        "pinning an uncommitted version, rolling back an unpinned model and following a missing alias are clear errors")
    func errors() throws {
        let repo = try repository(versions: 2)
        let notCommitted = try #require(throws: ObjectStoreError.self) { try repo.pin(model: "m", version: 7) }
        #expect(notCommitted.message == "model 'm' version 7 is not committed in \(repo.store.uri)")
        let noAlias = try #require(throws: ObjectStoreError.self) { try repo.rollback(model: "m") }
        #expect(noAlias.message.contains("has no 'stable' alias") && noAlias.message.contains("mscr models pin"))
        let missing = try #require(throws: ObjectStoreError.self) { try repo.resolve(model: "m", version: "canary") }
        #expect(missing.code == .notFound && missing.message.contains("no 'canary' alias"))
        #expect(throws: ObjectStoreError.self) { try repo.resolve(model: "m", version: "../x") }
        #expect(try repo.versions(of: "m") == [1, 2], "the alias file is not a version")
        #expect(try repo.models() == ["m"])
    }
}

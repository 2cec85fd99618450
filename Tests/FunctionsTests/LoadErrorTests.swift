import Foundation
import Testing

@testable import Functions
@testable import ObjectStore

@Suite struct LoadErrorTests {
    @Test("a missing model is named once in the error, with the repository it was looked for in")
    func missingModelNamedOnce() async throws {
        let (_, repo) = try makeRepository(versions: [1])
        var settings = FunctionHostSettings()
        settings.retryBaseSeconds = 0.01
        let config = FunctionConfig(
            name: "f", kind: "counting", model: "absent",
            limits: .init(maxBodyBytes: 1000, maxPixels: 0, concurrency: 1))
        let host = try CountingHost(configs: [config], kinds: [CountingKind()], repository: repo, settings: settings)
        do {
            _ = try await host.invoke("f", TestRequest())
            Issue.record("a missing model loaded")
        } catch let error as FunctionError {
            #expect(error.code == .unavailable)
            #expect(error.message.components(separatedBy: "'absent'").count == 2, "\(error.message)")
            #expect(error.message.contains("no committed version"), "\(error.message)")
        }
        await host.shutdown()
    }
}

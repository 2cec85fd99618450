import Foundation
import Synchronization
import Testing

@testable import Functions
@testable import ObjectStore

/// A kind for host tests: counts loads, can be told to fail, echoes its version. Where order
/// matters a test holds work with gates instead of sleeps: a load waits on `loadGate` (if
/// set), and a request with `?gate` waits on `requestGate`. `?sleep_ms=` simulates slow work
/// where only its length matters.
final class CountingKind: FunctionKind, @unchecked Sendable {
    let kind = "counting"
    let loads = Mutex(0)
    let failing = Mutex(false)
    let loadGate: TestGate?
    let requestGate = TestGate()

    init(loadGate: TestGate? = nil) {
        self.loadGate = loadGate
    }

    func load(config: FunctionConfig, model: ModelVersion) throws -> any LoadedFunction {
        let (bytes, _) = try model.read("model.txt")
        loadGate?.wait()
        loads.withLock { $0 += 1 }
        if failing.withLock({ $0 }) { throw FunctionError(.unavailable, "injected load failure") }
        return Loaded(version: model.version, text: String(decoding: bytes, as: UTF8.self), gate: requestGate)
    }

    struct Loaded: LoadedFunction {
        let version: Int
        let text: String
        let gate: TestGate
        func invoke(_ request: FunctionRequest) throws -> FunctionResponse {
            if request.query["gate"] != nil { gate.wait() }
            if let ms = request.query["sleep_ms"].flatMap(Double.init) { Thread.sleep(forTimeInterval: ms / 1000) }
            return FunctionResponse(body: Array("\(version):\(text)".utf8), contentType: "text/plain")
        }
    }
}

func makeRepository(versions: [Int] = [1]) throws -> (MemoryObjectStore, ModelRepository) {
    let store = MemoryObjectStore()
    let repo = ModelRepository(store: store)
    for v in versions {
        try repo.publish(model: "m", version: v, format: "test", files: ["model.txt": Array("v\(v)".utf8)])
    }
    return (store, repo)
}

func makeHost(
    kind: CountingKind, repository: ModelRepository, concurrency: Int = 4, queueDepth: Int = 64,
    timeout: Duration = .seconds(30), workers: Int = 4, retryBaseSeconds: Double = 0.2
) throws -> FunctionHost {
    var settings = FunctionHost.Settings()
    settings.concurrency = 100
    settings.queueDepth = queueDepth
    settings.requestTimeout = timeout
    settings.workers = workers
    settings.retryBaseSeconds = retryBaseSeconds
    let config = FunctionConfig(
        name: "f", kind: "counting", model: "m",
        limits: .init(maxBodyBytes: 1000, maxPixels: 0, concurrency: concurrency))
    return try FunctionHost(configs: [config], kinds: [kind], repository: repository, settings: settings)
}

extension FunctionResponse {
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// A count that concurrent tasks of a test share.
final class SharedCount: Sendable {
    private let count = Atomic(0)
    var value: Int { count.load(ordering: .acquiring) }
    func add() { count.add(1, ordering: .releasing) }
}

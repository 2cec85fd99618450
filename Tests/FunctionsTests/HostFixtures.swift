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

    func load(config: FunctionConfig, model: ModelVersion) throws -> Loaded {
        let (bytes, _) = try model.read("model.txt")
        loadGate?.wait()
        loads.withLock { $0 += 1 }
        if failing.withLock({ $0 }) { throw FunctionError(.unavailable, "injected load failure") }
        return Loaded(version: model.version, text: String(decoding: bytes, as: UTF8.self), gate: requestGate)
    }

    func memoryBytes(of loaded: Loaded) -> Int? { nil }

    struct Loaded: TestAnswering {
        let version: Int
        let text: String
        let gate: TestGate
        func answer(_ request: TestRequest) throws -> TestAnswer {
            if request.query["gate"] != nil { gate.wait() }
            if let ms = request.query["sleep_ms"].flatMap(Double.init) { Thread.sleep(forTimeInterval: ms / 1000) }
            return TestAnswer(body: Array("\(version):\(text)".utf8))
        }
    }
}

typealias CountingHost = FunctionHost<CountingKind.Loaded>

/// A call of the test kinds: its body (only its size matters to the host) and its options.
struct TestRequest: Sendable {
    var body: [UInt8] = []
    var query: [String: String] = [:]
}

/// What a test function answered.
struct TestAnswer: Sendable {
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// A loaded test function: answers a ``TestRequest``.
protocol TestAnswering: Sendable {
    func answer(_ request: TestRequest) throws -> TestAnswer
}

extension FunctionHost where Function: TestAnswering {
    /// One call of `name` through the host (admission, load, pool, deadline) that answers
    /// `request`.
    func invoke(_ name: String, _ request: TestRequest = TestRequest(), version: Int? = nil) async throws -> (
        TestAnswer, CallTiming
    ) {
        try await call(name, version: version, bodyBytes: request.body.count) { function, _ in
            try function.answer(request)
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
) throws -> CountingHost {
    var settings = FunctionHostSettings()
    settings.concurrency = 100
    settings.queueDepth = queueDepth
    settings.requestTimeout = timeout
    settings.workers = workers
    settings.retryBaseSeconds = retryBaseSeconds
    let config = FunctionConfig(
        name: "f", kind: "counting", model: "m",
        limits: .init(maxBodyBytes: 1000, maxPixels: 0, concurrency: concurrency))
    return try CountingHost(configs: [config], kinds: [kind], repository: repository, settings: settings)
}

/// A count that concurrent tasks of a test share.
final class SharedCount: Sendable {
    private let count = Atomic(0)
    var value: Int { count.load(ordering: .acquiring) }
    func add() { count.add(1, ordering: .releasing) }
}

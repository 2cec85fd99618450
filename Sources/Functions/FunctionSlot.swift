import Dispatch
import Inference
import ObjectStore
import Synchronization

/// One configured function: its lazily loaded model, single-flight loading, backoff after a
/// failed load, and atomic hot swap to a newer version.
final class FunctionSlot<Function: Sendable>: Sendable {
    /// A loaded model and what its load cost. Immutable; requests hold it while they run, so a
    /// swap never pulls a model from under an in-flight request.
    struct Loaded: Sendable {
        let function: Function
        let report: LoadReport
        /// What the model is charged to the memory budget.
        let bytes: Int
    }

    struct State {
        var current: Loaded?
        var loadTask: Task<Loaded, any Error>?
        var reloadTask: Task<Loaded, any Error>?
        /// Other versions asked for explicitly (V2 version paths), loaded lazily.
        var pinned: [Int: Task<Loaded, any Error>] = [:]
        var lastError: String?
        var failures = 0
        var retryAt: UInt64 = 0
        var requests = 0
        var loads = 0
        var evictions = 0
        /// When a request last took the model (for the memory budget's LRU).
        var lastUsed: UInt64 = 0
    }

    let config: FunctionConfig
    let kind: any FunctionKind<Function>
    let gate: AdmissionGate
    let repository: ModelRepository
    let loadPool: WorkPool
    /// The engine threads loads run on (packing and transforms split over them as inferences
    /// are).
    let compute: ComputePool
    let budget: MemoryBudget
    let onLoad: @Sendable (FunctionConfig, Result<LoadReport, FunctionError>) -> Void
    let state = Mutex(State())
    /// A test seam: runs after `reload` decided what to do ("start", "join", "unchanged", "cold").
    let afterReloadDecision: (@Sendable (String) async -> Void)?
    /// Backoff after the n-th consecutive failure: base · 2^(n-1), capped at 30 s.
    let retryBaseSeconds: Double

    init(
        config: FunctionConfig, kind: any FunctionKind<Function>, repository: ModelRepository, loadPool: WorkPool,
        compute: ComputePool = ComputePool(threads: 1), queueDepth: Int, retryBaseSeconds: Double,
        budget: MemoryBudget = MemoryBudget(limit: nil),
        onLoad: @escaping @Sendable (FunctionConfig, Result<LoadReport, FunctionError>) -> Void,
        afterReloadDecision: (@Sendable (String) async -> Void)? = nil
    ) {
        self.afterReloadDecision = afterReloadDecision
        self.budget = budget
        self.config = config
        self.kind = kind
        self.repository = repository
        self.loadPool = loadPool
        self.compute = compute
        self.gate = AdmissionGate(
            limit: config.limits.concurrency, queueLimit: queueDepth, label: "function '\(config.name)'")
        self.retryBaseSeconds = retryBaseSeconds
        self.onLoad = onLoad
    }

    var status: FunctionStatus {
        state.withLock { s in
            let st: FunctionState =
                s.current != nil ? .warm : s.loadTask != nil ? .loading : s.lastError != nil ? .failed : .cold
            return FunctionStatus(
                name: config.name, kind: config.kind, model: config.model, state: st,
                version: s.current?.report.version,
                follows: ModelAlias.isAlias(config.version) ? config.version : nil,
                load: s.current?.report, requests: s.requests,
                loads: s.loads, evictions: s.evictions, error: s.lastError)
        }
    }

    var isWarm: Bool { state.withLock { $0.current != nil } }

    /// What `acquire` found under the lock: a serving model, a load to wait for, or a backoff.
    private enum AcquireDecision {
        case warm(Loaded)
        case wait(Task<Loaded, any Error>)
        case backoff(Int, String)
    }

    /// The model to answer with: the serving one, or (cold) the result of the one load in
    /// flight, started here if none is. `coldMs` is how long this caller waited for a load.
    func acquire(version: Int? = nil) async throws -> (loaded: Loaded, coldMs: Double?) {
        let now = DispatchTime.now().uptimeNanoseconds
        let decision: AcquireDecision = state.withLock { s in
            s.requests += 1
            s.lastUsed = now
            if let version, version != s.current?.report.version {
                if let task = s.pinned[version] { return .wait(task) }
                let task = Task { try await self.loadOnPool(version: String(version)) }
                if s.pinned.count >= 4, let oldest = s.pinned.keys.min() { s.pinned[oldest] = nil }
                s.pinned[version] = task
                return .wait(task)
            }
            if let current = s.current { return .warm(current) }
            if let task = s.loadTask { return .wait(task) }
            if now < s.retryAt {
                let seconds = Int(((Double(s.retryAt - now) / 1e9)).rounded(.up))
                return .backoff(max(1, seconds), s.lastError ?? "load failed")
            }
            let task = Task { try await self.coldLoad() }
            s.loadTask = task
            return .wait(task)
        }
        switch decision {
        case .warm(let loaded):
            return (loaded, nil)
        case .backoff(let seconds, let reason):
            throw FunctionError(
                .unavailable, "function '\(config.name)' could not load its model: \(reason)", retryAfter: seconds)
        case .wait(let task):
            let start = DispatchTime.now().uptimeNanoseconds
            do {
                let loaded = try await task.value
                if let version, loaded.report.version != version {
                    throw FunctionError(.notFound, "model '\(config.model)' version \(version) is not available")
                }
                return (loaded, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            } catch let error as FunctionError {
                guard let version else { throw error }
                _ = state.withLock { $0.pinned.removeValue(forKey: version) }
                if let cause = error.underlying as? ObjectStoreError, cause.code == .notFound {
                    throw FunctionError(
                        .notFound, "model '\(config.model)' has no version \(version)", underlying: cause)
                }
                throw error
            } catch {
                if let version { _ = state.withLock { $0.pinned.removeValue(forKey: version) } }
                throw FunctionError(.internal, "load of '\(config.name)' failed: \(error)")
            }
        }
    }

    /// When a request last took the model.
    var lastUsed: UInt64 { state.withLock { $0.lastUsed } }

    /// Drops the serving model (back to cold) when no request holds or waits for the function and
    /// no load or swap is under way. Requests that already hold the model finish on it.
    func evictIfIdle() -> Bool {
        guard gate.active == 0, gate.queued == 0 else { return false }
        return state.withLock { s in
            guard s.current != nil, s.loadTask == nil, s.reloadTask == nil else { return false }
            s.current = nil
            s.evictions += 1
            return true
        }
    }
}

import Dispatch
import Inference
import ObjectStore
import Synchronization

/// One configured function: its lazily loaded model, single-flight loading, backoff after a
/// failed load, and atomic hot swap to a newer version.
final class FunctionSlot: Sendable {
    /// A loaded model and what its load cost. Immutable; requests hold it while they run, so a
    /// swap never pulls a model from under an in-flight request.
    struct Loaded: Sendable {
        let function: any LoadedFunction
        let report: LoadReport
        /// What the model is charged to the memory budget.
        let bytes: Int
    }

    private struct State {
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
    let kind: any FunctionKind
    let gate: AdmissionGate
    private let repository: ModelRepository
    private let loadPool: WorkPool
    /// The engine threads loads run on (packing and transforms split over them as inferences
    /// are).
    private let compute: ComputePool
    private let budget: MemoryBudget
    private let onLoad: @Sendable (FunctionConfig, Result<LoadReport, FunctionError>) -> Void
    private let state = Mutex(State())
    /// A test seam: runs after `reload` decided what to do ("start", "join", "unchanged", "cold").
    private let afterReloadDecision: (@Sendable (String) async -> Void)?
    /// Backoff after the n-th consecutive failure: base · 2^(n-1), capped at 30 s.
    private let retryBaseSeconds: Double

    init(
        config: FunctionConfig, kind: any FunctionKind, repository: ModelRepository, loadPool: WorkPool,
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

    /// The model to answer with: the serving one, or (cold) the result of the one load in
    /// flight, started here if none is. `coldMs` is how long this caller waited for a load.
    func acquire(version: Int? = nil) async throws -> (loaded: Loaded, coldMs: Double?) {
        enum Decision {
            case warm(Loaded)
            case wait(Task<Loaded, any Error>)
            case backoff(Int, String)
        }
        let now = DispatchTime.now().uptimeNanoseconds
        let decision: Decision = state.withLock { s in
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

    /// The first load: on success the function is warm; on failure it stays cold with a
    /// backoff, and the next request after it tries again.
    private func coldLoad() async throws -> Loaded {
        do {
            let loaded = try await loadOnPool(version: config.version, charge: .cold)
            state.withLock { s in
                s.current = loaded
                s.loadTask = nil
                s.lastError = nil
                s.failures = 0
                s.loads += 1
            }
            return loaded
        } catch let error as FunctionError where error.underlying is MemoryRefusal {
            state.withLock { $0.loadTask = nil }  // no room now: not the model's fault, no backoff
            throw error
        } catch let error as FunctionError {
            state.withLock { s in
                s.loadTask = nil
                s.lastError = error.message
                s.failures += 1
                let backoff = min(30, retryBaseSeconds * Double(1 << min(s.failures - 1, 10)))
                s.retryAt = DispatchTime.now().uptimeNanoseconds + UInt64(backoff * 1e9)
            }
            var e = error
            if e.code == .unavailable || e.code == .internal {
                e.retryAfter = max(1, Int((retryBaseSeconds * Double(1 << 0)).rounded(.up)))
            }
            throw e
        }
    }

    /// Loads a version on the load pool and reports it. Errors become `FunctionError`
    /// (`notFound` for a missing model/version, `unavailable` for everything else).
    /// What a load charges to the memory budget: nothing (an explicit version beside the serving
    /// one), the model (a cold load), or the model on top of the serving one it will replace (a
    /// swap holds both until the old one's requests finish).
    enum Charge {
        case none, cold
        case swap(servingBytes: Int)
    }

    private func loadOnPool(version: String, charge: Charge = .none) async throws -> Loaded {
        let config = self.config
        let kind = self.kind
        let repository = self.repository
        let budget = self.budget
        let compute = self.compute
        do {
            let loaded = try await loadPool.run {
                let start = DispatchTime.now().uptimeNanoseconds
                let metered = MeteredObjectStore(repository.store)
                let resolved = try ModelRepository(store: metered, cache: repository.cache).resolve(
                    model: config.model, version: version)
                let estimate = kind.memoryEstimate(config: config, manifest: resolved.manifest)
                switch charge {
                case .none: break
                case .cold: try budget.charge(self, bytes: estimate)
                case .swap(let serving): try budget.charge(self, bytes: serving + estimate)
                }
                let function: any LoadedFunction
                do {
                    function = try compute.run { try kind.load(config: config, model: resolved) }
                } catch {
                    switch charge {
                    case .none: break
                    case .cold: budget.release(self)
                    case .swap(let serving): budget.settle(self, bytes: serving)
                    }
                    throw error
                }
                let bytes = function.memoryBytes ?? estimate
                if case .cold = charge { budget.settle(self, bytes: bytes) }
                let total = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                let totals = metered.snapshot
                let fetch = min(total, totals.fetchSeconds * 1000)
                let report = LoadReport(
                    version: resolved.version, fetchMs: fetch, parseMs: total - fetch, totalMs: total,
                    bytes: totals.bytes)
                return Loaded(function: function, report: report, bytes: bytes)
            }
            onLoad(config, .success(loaded.report))
            return loaded
        } catch {
            let failure = Self.asLoadError(error, config: config)
            onLoad(config, .failure(failure))
            throw failure
        }
    }

    static func asLoadError(_ error: any Error, config: FunctionConfig) -> FunctionError {
        if let e = error as? FunctionError { return e }
        if let e = error as? ObjectStoreError, e.code == .notFound || e.code == .invalidKey {
            // The repository's message names the model and version already.
            let message = e.message.contains("'\(config.model)'") ? e.message : "model '\(config.model)': \(e.message)"
            return FunctionError(.unavailable, message, retryAfter: 1, underlying: e)
        }
        return FunctionError(.unavailable, "loading model '\(config.model)' failed: \(error)", retryAfter: 1)
    }

    /// Loads the newest committed version (or `version`) beside the serving one and swaps
    /// atomically. In-flight requests finish on the model they hold. A failed load leaves the
    /// old model serving and is reported in the status.
    func reload(version: String? = nil) async throws -> ReloadOutcome {
        let target = version ?? config.version
        let repository = self.repository
        let model = config.model
        let wanted: Int = try await loadPool.run { try repository.versionNumber(model: model, version: target) }
        enum Step {
            case unchanged(Int)
            case coldLoad
            case join(Task<Loaded, any Error>, Int?)
            case start(Task<Loaded, any Error>, Int?)
            var name: String {
                switch self {
                case .unchanged: "unchanged"
                case .coldLoad: "cold"
                case .join: "join"
                case .start: "start"
                }
            }
        }
        // Deciding to start a reload and recording it are one critical section: a second reload
        // arriving at any moment joins the first instead of starting its own.
        let step: Step = state.withLock { s in
            guard let current = s.current else { return .coldLoad }
            if current.report.version == wanted { return .unchanged(wanted) }
            if let task = s.reloadTask { return .join(task, current.report.version) }
            let serving = current.bytes
            let task = Task { try await self.loadOnPool(version: String(wanted), charge: .swap(servingBytes: serving)) }
            s.reloadTask = task
            return .start(task, current.report.version)
        }
        await afterReloadDecision?(step.name)
        switch step {
        case .unchanged(let v):
            return .unchanged(version: v)
        case .coldLoad:
            let (loaded, _) = try await acquire()
            return .swapped(from: nil, to: loaded.report.version)
        case .join(let task, let from):
            let loaded = try await task.value
            return .swapped(from: from, to: loaded.report.version)
        case .start(let task, let from):
            do {
                let loaded = try await task.value
                state.withLock { s in
                    s.current = loaded  // the swap: one assignment under the lock
                    s.reloadTask = nil
                    s.loads += 1
                    s.lastError = nil
                }
                budget.settle(self, bytes: loaded.bytes)
                return .swapped(from: from, to: loaded.report.version)
            } catch {
                let message = (error as? FunctionError)?.message ?? "\(error)"
                state.withLock { s in
                    s.reloadTask = nil
                    s.lastError = "reload to version \(wanted) failed, still serving version \(from ?? 0): \(message)"
                }
                throw error
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

    /// The version to swap to, for the poller: the newest committed one when it is newer than
    /// the serving one ("latest"), or the one the followed alias names now when it differs (a pin
    /// or a rollback). Nil for a pinned number or while cold.
    func pendingVersion() throws -> Int? {
        guard Int(config.version) == nil, let serving = state.withLock({ $0.current?.report.version }) else {
            return nil
        }
        let wanted = try repository.versionNumber(model: config.model, version: config.version)
        if config.version == "latest" { return wanted > serving ? wanted : nil }
        return wanted != serving ? wanted : nil
    }
}

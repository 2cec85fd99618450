import Dispatch
import ObjectStore

/// Loading: the first (cold) load with its backoff, and the load of any version on the load pool,
/// charged to the memory budget.
extension FunctionSlot {
    /// The first load: on success the function is warm; on failure it stays cold with a
    /// backoff, and the next request after it tries again.
    func coldLoad() async throws -> Loaded {
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

    /// What a load charges to the memory budget: nothing (an explicit version beside the serving
    /// one), the model (a cold load), or the model on top of the serving one it will replace (a
    /// swap holds both until the old one's requests finish).
    enum Charge {
        case none, cold
        case swap(servingBytes: Int)
    }

    /// Loads a version on the load pool and reports it. Errors become `FunctionError`
    /// (`notFound` for a missing model/version, `unavailable` for everything else).
    func loadOnPool(version: String, charge: Charge = .none) async throws -> Loaded {
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
                let function: Function
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
                let bytes = kind.memoryBytes(of: function) ?? estimate
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
}

import ObjectStore

/// Hot swap: a newer version loaded beside the serving one and swapped in atomically.
extension FunctionSlot {
    /// What `reload` decided under the lock (a test seam hears its name).
    enum ReloadStep {
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

    /// Loads the newest committed version (or `version`) beside the serving one and swaps
    /// atomically. In-flight requests finish on the model they hold. A failed load leaves the
    /// old model serving and is reported in the status.
    func reload(version: String? = nil) async throws -> ReloadOutcome {
        let target = version ?? config.version
        let repository = self.repository
        let model = config.model
        let wanted: Int = try await loadPool.run { try repository.versionNumber(model: model, version: target) }
        // Deciding to start a reload and recording it are one critical section: a second reload
        // arriving at any moment joins the first instead of starting its own.
        let step: ReloadStep = state.withLock { s in
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

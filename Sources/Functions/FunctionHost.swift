import Dispatch
import Inference
import ObjectStore
import Tracing

/// Hosts the configured functions: cold until their first request, loaded once (single
/// flight), bounded by per-instance and per-function concurrency, run on a bounded pool,
/// each call under a deadline. `Function` is what the kinds load and the host hands to each
/// call; what a call does with it (decode a request, run the model, encode an answer) is the
/// caller's, so the host knows no transport.
package final class FunctionHost<Function: Sendable>: Sendable {
    /// Knobs of the host.
    package typealias Settings = FunctionHostSettings

    private let slots: [String: FunctionSlot<Function>]
    package let names: [String]
    package let settings: Settings
    package let repository: ModelRepository
    private let instanceGate: AdmissionGate
    private let workPool: WorkPool
    private let loadPool: WorkPool
    /// What the loaded models are charged against `settings.memoryLimit`.
    package let budget: MemoryBudget

    /// - Parameter onLoad: called after every load attempt (metrics, logs).
    /// - Parameter onEvict: called when the memory budget sends an idle function back to cold to
    ///   make room, with the bytes freed.
    package init(
        configs: [FunctionConfig], kinds: [any FunctionKind<Function>], repository: ModelRepository,
        settings: Settings = Settings(),
        onLoad: @escaping @Sendable (FunctionConfig, Result<LoadReport, FunctionError>) -> Void = { _, _ in },
        onEvict: @escaping @Sendable (FunctionConfig, Int) -> Void = { _, _ in }
    ) throws {
        let budget = MemoryBudget(limit: settings.memoryLimit, onEvict: onEvict)
        self.budget = budget
        let kindsByName = Dictionary(kinds.map { ($0.kind, $0) }, uniquingKeysWith: { a, _ in a })
        self.settings = settings
        self.repository = repository
        self.workPool = WorkPool(threads: settings.workers)
        self.loadPool = WorkPool(threads: settings.loaders)
        self.instanceGate = AdmissionGate(
            limit: settings.concurrency, queueLimit: settings.queueDepth, label: "this instance")
        var slots: [String: FunctionSlot<Function>] = [:]
        for config in configs {
            guard let kind = kindsByName[config.kind] else {
                let origin = config.source.map { "\($0): " } ?? "function '\(config.name)': "
                throw FunctionError(
                    .invalidInput,
                    "\(origin)\"kind\" '\(config.kind)' is not a registered kind (known: \(kindsByName.keys.sorted().joined(separator: ", ")))"
                )
            }
            do {
                try kind.validate(config: config)
            } catch {
                let origin = config.source.map { "\($0): " } ?? "function '\(config.name)': "
                let message = (error as? FunctionError)?.message ?? "\(error)"
                throw FunctionError(.invalidInput, origin + message, underlying: error)
            }
            guard slots[config.name] == nil else {
                throw FunctionError(.invalidInput, "function '\(config.name)' is configured twice")
            }
            slots[config.name] = FunctionSlot(
                config: config, kind: kind, repository: repository, loadPool: loadPool, compute: settings.compute,
                queueDepth: settings.queueDepth, retryBaseSeconds: settings.retryBaseSeconds, budget: budget,
                onLoad: onLoad)
        }
        budget.attach(slots.values.map { $0 })
        self.slots = slots
        self.names = slots.keys.sorted()
    }

    private func slot(_ name: String) throws -> FunctionSlot<Function> {
        guard let slot = slots[name] else {
            throw FunctionError(.notFound, "no function named '\(name)' (have: \(names.joined(separator: ", ")))")
        }
        return slot
    }

    /// The config of `name`, if it exists.
    package func config(_ name: String) -> FunctionConfig? { slots[name]?.config }

    /// The static tensor signature of function `name`'s kind, nil when it has no tensor interface.
    package func tensorSignature(_ name: String) -> TensorSignature? { slots[name]?.kind.tensorSignature }

    /// Status of every function, sorted by name.
    package func status() -> [FunctionStatus] { names.compactMap { slots[$0]?.status } }

    /// Whether `name` is warm (for `/readyz?function=`).
    package func isWarm(_ name: String) -> Bool { slots[name]?.isWarm ?? false }

    /// In-flight and queued requests of the instance.
    package var load: (active: Int, queued: Int) { (instanceGate.active, instanceGate.queued) }

    /// Runs one call of function `name`: admission (instance and function gates), the (cold)
    /// load of the serving model or of `version`, then `body` with the loaded function on the
    /// bounded pool, all under the request deadline. `bodyBytes`: the size of what the caller
    /// read for the call, checked against the function's limit. `timeout`: the caller's own
    /// deadline (gRPC's `grpc-timeout`), when shorter than the host's request timeout. The
    /// timing says what the call cost.
    package func call<T: Sendable>(
        _ name: String, version: Int? = nil, bodyBytes: Int = 0, timeout: Duration? = nil,
        _ body: @escaping @Sendable (Function, FunctionCall) throws -> T
    ) async throws -> (T, CallTiming) {
        // The call itself is not generic: this module cannot specialize it for the callers'
        // types, and unspecialized, its continuations, results and locks looked their generic
        // metadata up at run time: 25 000 instructions per warm stock request. The answer crosses it
        // as an existential and is cast back once.
        let (value, timing) = try await callErased(name, version: version, bodyBytes: bodyBytes, timeout: timeout) {
            function, call -> any Sendable in try body(function, call)
        }
        return (value as! T, timing)
    }

    private func callErased(
        _ name: String, version: Int?, bodyBytes: Int, timeout: Duration?,
        _ body: @escaping @Sendable (Function, FunctionCall) throws -> any Sendable
    ) async throws -> (any Sendable, CallTiming) {
        let slot = try slot(name)
        let limit = slot.config.limits.maxBodyBytes
        guard bodyBytes <= limit else {
            throw FunctionError(
                .payloadTooLarge, "the body of \(bodyBytes) bytes exceeds the limit of \(limit) bytes for '\(name)'")
        }
        let start = DispatchTime.now().uptimeNanoseconds
        let requestTimeout = min(settings.requestTimeout, timeout ?? settings.requestTimeout)
        let deadline = ContinuousClock.now.advanced(by: requestTimeout)
        let instanceGate = self.instanceGate
        let workPool = self.workPool
        let tracer = settings.tracer
        let compute = settings.compute
        return try await Deadline.run(requestTimeout) {
            var timing = CallTiming()
            let queueStart = DispatchTime.now().uptimeNanoseconds
            let trace = FunctionSpans.currentTrace()
            let queuePhase = FunctionSpans.start("queue wait", trace: trace, tracer: tracer, config: slot.config)
            // From here until its slot is given back the request counts as demand: while there
            // are several, every inference runs on its share of the threads.
            compute.requestStarted()
            let releaseInstance: @Sendable () -> Void = {
                instanceGate.release()
                compute.requestEnded()
            }
            do {
                try await instanceGate.acquire()
            } catch {
                compute.requestEnded()
                queuePhase.fail(error)
                throw error
            }
            do {
                try await slot.gate.acquire()
            } catch {
                releaseInstance()
                queuePhase.fail(error)
                throw error
            }
            queuePhase.end()
            timing.queueMs = Double(DispatchTime.now().uptimeNanoseconds - queueStart) / 1e6
            let loaded: FunctionSlot<Function>.Loaded
            do {
                let waitStart = DefaultTracerClock.now
                let acquired = try await slot.acquire(version: version)
                loaded = acquired.loaded
                if let cold = acquired.coldMs {
                    timing.coldMs = cold
                    timing.load = loaded.report
                    FunctionSpans.recordLoad(
                        tracer: tracer, config: slot.config, report: loaded.report, waitStart: waitStart)
                }
                try Task.checkCancellation()
            } catch {
                slot.gate.release()
                releaseInstance()
                throw error
            }
            let inferStart = DispatchTime.now().uptimeNanoseconds
            let admitted = FunctionCall(
                timing: timing, deadline: deadline, version: loaded.report.version, trace: trace)
            let inferPhase = FunctionSpans.start(
                "inference", trace: trace, tracer: tracer, config: slot.config, version: loaded.report.version,
                cold: timing.coldMs != nil)
            let value: any Sendable
            do {
                value = try await workPool.run({ try compute.run { try body(loaded.function, admitted) } }) {
                    slot.gate.release()
                    releaseInstance()
                }
            } catch {
                inferPhase.fail(error)
                throw error
            }
            inferPhase.end()
            let end = DispatchTime.now().uptimeNanoseconds
            timing.inferMs = Double(end - inferStart) / 1e6
            timing.totalMs = Double(end - start) / 1e6
            return (value, timing)
        }
    }

    /// Loads the named functions now (MSCR_WARM), before the port opens.
    package func warm(_ names: [String]) async throws {
        for name in names {
            _ = try await slot(name).acquire()
        }
    }

    /// Picks up the newest committed version of `name` now (admin reload).
    package func reload(_ name: String) async throws -> ReloadOutcome {
        try await slot(name).reload()
    }

    /// Checks every warm function that follows "latest" or an alias for a different version to
    /// serve (a newer commit, a pin, a rollback) and swaps to it.
    /// Returns what changed; errors are reported in the statuses and returned.
    package func pollVersions() async -> [(String, Result<ReloadOutcome, FunctionError>)] {
        var results: [(String, Result<ReloadOutcome, FunctionError>)] = []
        for name in names {
            guard let slot = slots[name] else { continue }
            do {
                let newer = try await loadPool.run { try slot.pendingVersion() }
                guard newer != nil else { continue }
                results.append((name, .success(try await slot.reload())))
            } catch {
                results.append((name, .failure(FunctionSlot<Function>.asLoadError(error, config: slot.config))))
            }
        }
        return results
    }

    /// Runs blocking work (repository reads, retraining) on the load pool.
    package func runBlocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await loadPool.run(work)
    }

    /// Stops the pools after queued work has run, then the engine threads.
    package func shutdown() async {
        await workPool.shutdown()
        await loadPool.shutdown()
        settings.compute.shutdown()
    }
}

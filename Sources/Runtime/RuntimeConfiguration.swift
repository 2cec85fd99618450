import Common
import FoundationEssentials
import Functions
import Inference
import Logging
import ObjectStore

/// Everything `mscr serve` reads, from flags, then the environment, then defaults.
package struct RuntimeConfiguration: Sendable {
    package enum LogFormat: String, Sendable { case json, text }

    package var host = "0.0.0.0"
    /// `PORT` (Cloud Run sets it); 0 picks a free port (tests).
    package var port = 8080
    /// `MSCR_FUNCTIONS`: the folder of `<name>/function.json`.
    package var functionsDirectory = "./functions"
    /// `MSCR_MODEL_REPOSITORY`: where models live.
    package var modelRepository = "./models"
    /// `MSCR_WARM`: functions loaded before the port opens.
    package var warm: [String] = []
    /// `MSCR_SHUTDOWN_GRACE` seconds to finish in-flight requests after SIGTERM.
    package var shutdownGrace: Duration = .seconds(8)
    /// `MSCR_ADMIN_TOKEN`: bearer token for `/admin`; nil turns admin endpoints off.
    package var adminToken: String?
    /// `MSCR_VERSION_POLL` seconds between checks for a newer model version (0: off).
    package var versionPoll: Duration?
    /// `MSCR_THREADS`: threads one inference uses when it runs alone (default: the CPU quota);
    /// inferences running at once share them.
    package var blasThreads = InferenceThreads.defaultCount()
    /// `MSCR_KERNEL_ISA`: `auto` (default), `avx2` or `avx512`, the GEMM instruction set.
    package var kernelISA = KernelISA.detected
    /// `MSCR_ARTIFACT` (`on`/`off`) and `MSCR_ARTIFACT_WARMUP` (`0`/`1`): compiled artifacts.
    package var artifactPolicy = ArtifactPolicy()
    /// `MSCR_ENABLE_TEST_FUNCTIONS=1` enables the `mscr-test` kind.
    package var enableTestFunctions = false
    /// `MSCR_IDLE_TIMEOUT`: seconds a connection may sit idle or dribble a body.
    package var idleTimeout: Duration = .seconds(30)
    /// `MSCR_BODY_TIMEOUT`: seconds a client has to send its whole request body (408 past it),
    /// so a client that dribbles bytes cannot hold a connection and a buffer forever.
    package var bodyTimeout: Duration = .seconds(30)
    /// `MSCR_WEB_ROOT`: serve the web client from this folder instead of the built-in one.
    package var webRoot: String?
    package var logLevel: Logger.Level = .info
    package var logFormat: LogFormat = .json
    package var hostSettings = FunctionHostSettings()
    /// Knative / Cloud Run identity: K_SERVICE, K_REVISION, K_CONFIGURATION, CLOUD_RUN_JOB.
    package var service: [String: String] = [:]
    /// `GOOGLE_CLOUD_PROJECT`, for trace ids Cloud Logging links.
    package var project: String?
    /// Retraining (issue 9): `MSCR_RETRAIN_THRESHOLD`, `MSCR_RETRAIN_URL`, `MSCR_RETRAIN_COOLDOWN`.
    package var retrainThreshold: Double?
    package var retrainURL: String?
    package var retrainCooldown: Duration = .seconds(3600)
    /// Where `mscr retrain` reads its data when the trigger runs it in-process.
    package var retrainData: String?
    /// `MSCR_RETRAIN_ORDER`: row order of headerless retrain data (`oldest-first` or `newest-first`).
    package var retrainOrder: StockSeries.Order?
    /// OpenTelemetry traces (`OTEL_*`): off unless an OTLP endpoint or exporter is set.
    package var tracing = TracingConfiguration()

    package init() {}

    /// Reads the environment over the defaults. Invalid values are errors that name the variable.
    package static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws
        -> RuntimeConfiguration
    {
        var c = RuntimeConfiguration()
        func int(_ name: String, min: Int = 0) throws -> Int? {
            guard let raw = env[name], !raw.isEmpty else { return nil }
            guard let v = Int(raw), v >= min else {
                throw FunctionError(.invalidInput, "\(name)=\(raw) is not an integer >= \(min)")
            }
            return v
        }
        func seconds(_ name: String) throws -> Duration? {
            guard let raw = env[name], !raw.isEmpty else { return nil }
            let trimmed = raw.hasSuffix("s") ? String(raw.dropLast()) : raw
            guard let v = Double(trimmed), v >= 0, v.isFinite else {
                throw FunctionError(.invalidInput, "\(name)=\(raw) is not a number of seconds")
            }
            return .milliseconds(Int64(v * 1000))
        }
        if let p = try int("PORT") { c.port = p }
        if let f = env["MSCR_FUNCTIONS"], !f.isEmpty { c.functionsDirectory = f }
        if let r = env["MSCR_MODEL_REPOSITORY"], !r.isEmpty { c.modelRepository = r }
        if let w = env["MSCR_WARM"] {
            c.warm = w.split(separator: ",").map { $0.trimmed }.filter { !$0.isEmpty }
        }
        if let g = try seconds("MSCR_SHUTDOWN_GRACE") { c.shutdownGrace = g }
        if let t = env["MSCR_ADMIN_TOKEN"], !t.isEmpty { c.adminToken = t }
        if let p = try seconds("MSCR_VERSION_POLL"), p > .zero { c.versionPoll = p }
        if let t = try int("MSCR_THREADS", min: 1) { c.blasThreads = t }
        do {
            c.kernelISA = try KernelISA.fromEnvironment(env["MSCR_KERNEL_ISA"])
        } catch {
            throw FunctionError(.invalidInput, error.message)
        }
        c.artifactPolicy = try ArtifactPolicy.fromEnvironment(env)
        if let raw = env["MSCR_ENABLE_TEST_FUNCTIONS"], !raw.isEmpty {
            guard raw == "0" || raw == "1" else {
                throw FunctionError(.invalidInput, "MSCR_ENABLE_TEST_FUNCTIONS=\(raw) is not 0 or 1")
            }
            c.enableTestFunctions = raw == "1"
        }
        if let t = try seconds("MSCR_IDLE_TIMEOUT"), t > .zero { c.idleTimeout = t }
        if let t = try seconds("MSCR_BODY_TIMEOUT"), t > .zero { c.bodyTimeout = t }
        c.webRoot = env["MSCR_WEB_ROOT"].flatMap { $0.isEmpty ? nil : $0 }
        if let l = env["LOG_LEVEL"], !l.isEmpty {
            guard let level = parseLevel(l) else {
                throw FunctionError(
                    .invalidInput, "LOG_LEVEL=\(l) is not one of trace, debug, info, notice, warning, error, critical")
            }
            c.logLevel = level
        }
        if let f = env["MSCR_LOG_FORMAT"], !f.isEmpty {
            guard let format = LogFormat(rawValue: f) else {
                throw FunctionError(.invalidInput, "MSCR_LOG_FORMAT=\(f) is not json or text")
            }
            c.logFormat = format
        }
        if let n = try int("MSCR_CONCURRENCY", min: 1) { c.hostSettings.concurrency = n }
        if let n = try int("MSCR_QUEUE_DEPTH") { c.hostSettings.queueDepth = n }
        if let t = try seconds("MSCR_REQUEST_TIMEOUT"), t > .zero { c.hostSettings.requestTimeout = t }
        // One worker per core: a lone request gets every thread, several at once share them.
        c.hostSettings.workers = InferenceThreads.defaultCount()
        if let n = try int("MSCR_WORKERS", min: 1) { c.hostSettings.workers = n }
        c.hostSettings.memoryLimit = MemoryBudget.defaultLimit()
        if let raw = env["MSCR_MEMORY_LIMIT"], !raw.isEmpty {
            guard let limit = MemoryBudget.parse(raw) else {
                throw FunctionError(
                    .invalidInput,
                    "MSCR_MEMORY_LIMIT=\(raw) is not a size in bytes (e.g. 1500000000, 1500M, 1.5Gi) or none")
            }
            c.hostSettings.memoryLimit = limit
        }
        for key in ["K_SERVICE", "K_REVISION", "K_CONFIGURATION", "CLOUD_RUN_JOB", "CLOUD_RUN_EXECUTION"] {
            if let v = env[key], !v.isEmpty { c.service[key] = v }
        }
        c.project = env["GOOGLE_CLOUD_PROJECT"].flatMap { $0.isEmpty ? nil : $0 }
        if let raw = env["MSCR_RETRAIN_THRESHOLD"], !raw.isEmpty {
            guard let v = Double(raw), v > 0 else {
                throw FunctionError(.invalidInput, "MSCR_RETRAIN_THRESHOLD=\(raw) is not a positive number")
            }
            c.retrainThreshold = v
        }
        c.retrainURL = env["MSCR_RETRAIN_URL"].flatMap { $0.isEmpty ? nil : $0 }
        if let t = try seconds("MSCR_RETRAIN_COOLDOWN") { c.retrainCooldown = t }
        c.retrainData = env["MSCR_RETRAIN_DATA"].flatMap { $0.isEmpty ? nil : $0 }
        if let raw = env["MSCR_RETRAIN_ORDER"], !raw.isEmpty {
            guard let order = try? StockSeries.Order(raw) else {
                throw FunctionError(.invalidInput, "MSCR_RETRAIN_ORDER=\(raw) is not oldest-first or newest-first")
            }
            c.retrainOrder = order
        }
        // Read by the remote stores when the repository opens; checked here so a bad value
        // stops the start with its name even when the repository is local.
        _ = try TransportConfiguration(environment: env)
        _ = try ModelCache.fromEnvironment(env)
        c.tracing = try TracingConfiguration.fromEnvironment(env)
        return c
    }

    package static func parseLevel(_ s: String) -> Logger.Level? {
        switch s.lowercased() {
        case "warn": return .warning
        case "fatal": return .critical
        default: return Logger.Level(rawValue: s.lowercased())
        }
    }

    /// What the start-up line logs: every setting that matters, never a secret.
    package var summary: Logger.Metadata {
        var m: Logger.Metadata = [
            "port": "\(port)", "functions": "\(functionsDirectory)", "repository": "\(modelRepository)",
            "concurrency": "\(hostSettings.concurrency)", "queue_depth": "\(hostSettings.queueDepth)",
            "workers": "\(hostSettings.workers)", "blas_threads": "\(blasThreads)",
            "request_timeout_s": "\(hostSettings.requestTimeout.seconds)",
            "shutdown_grace_s": "\(shutdownGrace.seconds)", "admin": "\(adminToken != nil ? "on" : "off")",
            "warm": "\(warm.joined(separator: ","))",
            "memory_limit": "\(hostSettings.memoryLimit.map(String.init) ?? "none")",
            "tracing": "\(tracing.summary)",
        ]
        for (k, v) in service { m[k] = "\(v)" }
        return m
    }
}

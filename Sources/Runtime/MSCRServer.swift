import FoundationEssentials
import Functions
import Hummingbird
import Inference
import Logging
import ObjectStore
import ServiceLifecycle
import Tracing

/// The server: the function host, its metrics and the HTTP application, built by one
/// function that `mscr serve` and the tests both call (tests pass port 0).
package struct MSCRServer: Sendable {
    package let configuration: RuntimeConfiguration
    package let host: RuntimeHost
    package let metrics: RuntimeMetrics
    package let logger: Logger
    /// The retraining observer, its trigger and dispatcher.
    package let monitor: RetrainingMonitor

    /// Builds the host from the configuration: reads the function configs and opens the model
    /// repository. Nothing is loaded yet (cold start is per function, on first request).
    ///
    /// - Parameter tracer: what every span of the server starts on; by default the process's,
    ///   read once here (so bootstrap tracing before building the server).
    package init(
        configuration: RuntimeConfiguration, logger: Logger, extraKinds: [any HostedKind] = [],
        tracer: any Tracer = InstrumentationSystem.tracer
    ) throws {
        self.configuration = configuration
        self.logger = logger
        KernelISA.select(configuration.kernelISA)
        ArtifactPolicy.current = configuration.artifactPolicy
        MemoryBudget.returnFreedModelsToTheSystem()
        let metrics = RuntimeMetrics()
        self.metrics = metrics
        let configs = try FunctionConfig.loadAll(from: configuration.functionsDirectory)
        let repository = try ModelRepository.open(configuration.modelRepository)
        let monitor = RetrainingMonitor(
            configs: configs, configuration: configuration, repository: repository, logger: logger)
        self.monitor = monitor
        let kinds =
            FunctionKinds.all(includeTest: configuration.enableTestFunctions)
            + extraKinds.map { $0.observed(by: monitor.onForecast) }
        let loadLogger = logger
        var settings = configuration.hostSettings
        settings.tracer = tracer
        // Threads of a lone inference; inferences at once share them, and how many run at once
        // comes from the worker pool.
        settings.compute = ComputePool(threads: configuration.blasThreads)
        self.host = try RuntimeHost(
            configs: configs, kinds: kinds.map(\.hosted), repository: repository,
            settings: settings,
            onLoad: { config, result in
                metrics.recordLoad(function: config.name, result: result)
                switch result {
                case .success(let report):
                    loadLogger.info(
                        "model loaded",
                        metadata: [
                            "function": "\(config.name)", "model": "\(config.model)", "version": "\(report.version)",
                            "fetch_ms": "\(report.fetchMs.rounded(toPlaces: 3))",
                            "parse_ms": "\(report.parseMs.rounded(toPlaces: 3))",
                            "total_ms": "\(report.totalMs.rounded(toPlaces: 3))", "bytes": "\(report.bytes)",
                        ])
                case .failure(let error):
                    loadLogger.error(
                        "model load failed",
                        metadata: [
                            "function": "\(config.name)", "model": "\(config.model)", "error": "\(error.message)",
                        ])
                }
            },
            onEvict: { config, bytes in
                metrics.recordEviction(function: config.name)
                loadLogger.notice(
                    "function evicted to make room in the memory budget",
                    metadata: ["function": "\(config.name)", "model": "\(config.model)", "freed_bytes": "\(bytes)"])
            })
    }

    /// The router with every route: health and status, functions, feedback, admin, the web
    /// page and the V2 protocol.
    package func makeRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(
            middleware: ErrorAndTraceMiddleware(
                project: configuration.project, metrics: metrics,
                tracer: configuration.tracing.enabled ? host.settings.tracer : nil))
        addHealthRoutes(to: router)
        addFunctionRoutes(to: router)
        addFeedbackRoutes(to: router)
        addAdminRoutes(to: router)
        addWebRoutes(to: router)
        addV2Routes(to: router)
        addGRPCRoutes(to: router)
        return router
    }

    /// The application: HTTP/1.1 and HTTP/2 cleartext (h2c, which carries gRPC) on `host:port`, idle timeout against slow clients, the
    /// host's pools, the retraining monitor and the version poller as services (they stop after
    /// the server has drained, the pools last), warm-up before the port opens.
    package func makeApplication(
        router: Router<BasicRequestContext>,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        var services: [any Service] = [FunctionHostService(host: host)] + monitor.services
        if let interval = configuration.versionPoll {
            services.append(VersionPollService(host: host, interval: interval, logger: logger))
        }
        let idle = configuration.idleTimeout
        let grace = configuration.shutdownGrace
        var app = Application(
            router: router,
            server: .http1OrH2C(
                idleTimeout: .nanoseconds(Int64(idle.seconds * 1e9)),
                graceTime: .nanoseconds(Int64(grace.seconds * 1e9)),
                grpc: GRPCStreamResponder(
                    service: makeGRPCService(), metrics: metrics, tracing: configuration.tracing.enabled,
                    logger: logger)),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "mscr"),
            services: services,
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
        let host = self.host
        let warm = configuration.warm
        let logger = self.logger
        app.beforeServerStarts {
            guard !warm.isEmpty else { return }
            logger.info(
                "warming functions before the port opens", metadata: ["functions": "\(warm.joined(separator: ","))"])
            try await host.warm(warm)
        }
        return app
    }
}

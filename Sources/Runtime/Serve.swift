import Common
import FoundationEssentials
import Functions
import Logging
import ServiceLifecycle
import Tracing

#if canImport(Glibc)
import Glibc
#endif

/// The one serve path, shared by `mscr serve` and `MSCR.serve(functions:)` of a user's package:
/// logging bootstrap, the server with its kinds, and the service group that drains on SIGTERM
/// and SIGINT.
package enum Serve {
    /// Serves until SIGTERM or SIGINT. A configuration or start failure exits the process with
    /// status 1 after writing the reason to /dev/termination-log (Knative shows it).
    /// - Parameter portFile: a file to write the bound port to once listening (for scripts).
    package static func run(
        configuration config: RuntimeConfiguration, extraKinds: [any HostedKind], portFile: String? = nil
    )
        async
    {
        let level = config.logLevel
        let format = config.logFormat
        let project = config.project
        LoggingSystem.bootstrap { label in
            CloudLogHandler(label: label, level: level, format: format, project: project)
        }
        let logger = Logger(label: "mscr")
        // Traces: the tracer is process-wide (the Tracing API's bootstrap); its exporter runs
        // in the group below, before the application, so it stops after the application has
        // drained and flushes the spans of the last requests within the grace period.
        var tracingService: (any Service)?
        do {
            if let backend = try TracingBackend.make(config.tracing, logger: logger) {
                InstrumentationSystem.bootstrap(backend.tracer)
                tracingService = backend.service
            }
        } catch {
            terminate("cannot start tracing: \(error)", logger: logger)
        }
        // After the bootstrap: the server reads the process's tracer once.
        let server: MSCRServer
        do {
            server = try MSCRServer(configuration: config, logger: logger, extraKinds: extraKinds)
        } catch {
            terminate("cannot start: \(error)", logger: logger)
        }
        let summary = config.summary
        let app = server.makeApplication(router: server.makeRouter()) { port in
            logger.notice("listening", metadata: summary.merging(["bound_port": "\(port)"]) { _, new in new })
            if let portFile { try? "\(port)\n".write(toFile: portFile, atomically: true, encoding: .utf8) }
        }
        var groupConfig = ServiceGroupConfiguration(
            services: (tracingService.map { [.init(service: $0)] } ?? []) + [
                .init(service: app),
                .init(service: ShutdownWatchdog(grace: config.shutdownGrace, margin: .seconds(1), logger: logger)),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        groupConfig.maximumGracefulShutdownDuration = config.shutdownGrace
        // No cancellation timeout: past it ServiceLifecycle calls fatalError. ShutdownWatchdog
        // ends a drain that outlives the grace instead, with a log line and status 1.
        groupConfig.maximumCancellationDuration = nil
        do {
            try await ServiceGroup(configuration: groupConfig).run()
        } catch {
            terminate("server stopped with an error: \(error)", logger: logger)
        }
        logger.notice("stopped")
    }

    /// The configuration from the environment, or an exit with the reason.
    package static func configurationFromEnvironment() -> RuntimeConfiguration {
        do {
            return try RuntimeConfiguration.fromEnvironment()
        } catch {
            terminate("invalid configuration: \(error)")
        }
    }

    /// Exits non-zero after writing a one-line reason to /dev/termination-log (Knative shows it).
    package static func terminate(_ reason: String, logger: Logger? = nil) -> Never {
        if let logger { logger.critical("\(reason)") } else { StandardStream.writeError(reason + "\n") }
        let path = "/dev/termination-log"
        StandardStream.append(reason.replacing("\n", with: " ") + "\n", toExistingFile: path)
        Glibc.exit(1)
    }
}

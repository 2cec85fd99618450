import ArgumentParser
import Common
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import Functions
import Logging
import Runtime
import ServiceLifecycle

/// `mscr serve`: the container contract (PORT, logs, SIGTERM, health) around the function host.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the configured functions over HTTP on $PORT.",
        discussion: """
            Configuration comes from flags, then the environment, then defaults: PORT, MSCR_FUNCTIONS, \
            MSCR_MODEL_REPOSITORY, MSCR_WARM, MSCR_CONCURRENCY, MSCR_QUEUE_DEPTH, MSCR_REQUEST_TIMEOUT, \
            MSCR_WORKERS, MSCR_THREADS, MSCR_SHUTDOWN_GRACE, MSCR_ADMIN_TOKEN, MSCR_VERSION_POLL, LOG_LEVEL. \
            See README.md.
            """)

    @Option(help: "Port to listen on (default: $PORT, else 8080; 0 picks a free port).")
    var port: Int?
    @Option(help: "Address to bind (default 0.0.0.0).")
    var host: String?
    @Option(help: "Folder of <name>/function.json (default: $MSCR_FUNCTIONS, else ./functions).")
    var functions: String?
    @Option(help: "Model repository URI (default: $MSCR_MODEL_REPOSITORY, else ./models).")
    var repository: String?
    @Option(help: "Log format: json (Cloud Logging) or text.")
    var logFormat: String?
    @Option(help: "Write the bound port to this file once listening (for scripts).")
    var portFile: String?

    func run() async throws {
        var config: RuntimeConfiguration
        do {
            config = try RuntimeConfiguration.fromEnvironment()
        } catch {
            Self.terminate("invalid configuration: \(error)")
        }
        if let port { config.port = port }
        if let host { config.host = host }
        if let functions { config.functionsDirectory = functions }
        if let repository { config.modelRepository = repository }
        if let logFormat {
            guard let f = RuntimeConfiguration.LogFormat(rawValue: logFormat) else {
                throw ValidationError("--log-format must be json or text")
            }
            config.logFormat = f
        }
        let level = config.logLevel
        let format = config.logFormat
        let project = config.project
        LoggingSystem.bootstrap { label in
            CloudLogHandler(label: label, level: level, format: format, project: project)
        }
        let logger = Logger(label: "mscr")
        let server: MSCRServer
        do {
            server = try MSCRServer(configuration: config, logger: logger)
        } catch {
            Self.terminate("cannot start: \(error)", logger: logger)
        }
        let portFile = self.portFile
        let summary = config.summary
        let app = server.makeApplication(router: server.makeRouter()) { port in
            logger.notice("listening", metadata: summary.merging(["bound_port": "\(port)"]) { _, new in new })
            if let portFile { try? "\(port)\n".write(toFile: portFile, atomically: true, encoding: .utf8) }
        }
        var groupConfig = ServiceGroupConfiguration(
            services: [.init(service: app)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        groupConfig.maximumGracefulShutdownDuration = config.shutdownGrace
        groupConfig.maximumCancellationDuration = .seconds(1)
        do {
            try await ServiceGroup(configuration: groupConfig).run()
        } catch {
            Self.terminate("server stopped with an error: \(error)", logger: logger)
        }
        logger.notice("stopped")
    }

    /// Exits non-zero after writing a one-line reason to /dev/termination-log (Knative shows it).
    static func terminate(_ reason: String, logger: Logger? = nil) -> Never {
        if let logger { logger.critical("\(reason)") } else { StandardStream.writeError(reason + "\n") }
        let path = "/dev/termination-log"
        StandardStream.append(reason.replacing("\n", with: " ") + "\n", toExistingFile: path)
        Glibc.exit(1)
    }
}

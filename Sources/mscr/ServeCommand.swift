import ArgumentParser
import Functions
import MSCRMain
import Runtime

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

    @OptionGroup var options: ServeOptions

    func run() async throws {
        var config = Serve.configurationFromEnvironment()
        try options.apply(to: &config)
        await Self.serve(configuration: config, portFile: options.portFile)
    }

    /// Serves with the built-in functions (detect on the public API) registered: the one path of
    /// `mscr serve`, with or without flags.
    static func serve(configuration: RuntimeConfiguration, portFile: String?) async {
        let kinds: [any HostedKind]
        do {
            kinds = try MSCRMain.MSCR.builtInFunctionKinds()
        } catch {
            Serve.terminate("cannot register the built-in functions: \(error)")
        }
        await Serve.run(configuration: configuration, extraKinds: kinds, portFile: portFile)
    }
}

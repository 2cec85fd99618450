import ArgumentParser
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
        await Serve.run(
            configuration: config, extraKinds: try MSCRMain.MSCR.builtInFunctionKinds(), portFile: options.portFile)
    }
}

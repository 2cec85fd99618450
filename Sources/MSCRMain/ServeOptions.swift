import ArgumentParser
package import Runtime

/// The flags of `mscr serve`, shared by `MSCR.serve(functions:)` so that a server built from a
/// user's package takes the same ones (and drops into the project's Dockerfile, whose image runs
/// `<binary> serve`).
package struct ServeOptions: ParsableArguments {
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
    package var portFile: String?

    package init() {}

    /// The flags over `config` (which holds the environment over the defaults).
    package func apply(to config: inout RuntimeConfiguration) throws {
        if let port { config.port = port }
        if let host { config.host = host }
        if let functions { config.functionsDirectory = functions }
        if let repository { config.modelRepository = repository }
        if let logFormat {
            guard let format = RuntimeConfiguration.LogFormat(rawValue: logFormat) else {
                throw ValidationError("--log-format must be json or text")
            }
            config.logFormat = format
        }
    }
}

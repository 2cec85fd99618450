import Functions
import Hummingbird
import Logging
import Runtime

/// Wires the modules into one server: the function kinds, and the routes other modules add.
enum ServerAssembly {
    static func build(configuration: RuntimeConfiguration, logger: Logger) throws -> MSCRServer {
        try MSCRServer(configuration: configuration, logger: logger)
    }

    static func extraRoutes(_ server: MSCRServer) -> [(Router<BasicRequestContext>) -> Void] {
        []
    }
}

import ArgumentParser
import FoundationEssentials
import ObjectStore

/// `mscr health`: a container health check for platforms that run a command in the container
/// (ECS, Docker's HEALTHCHECK). The image has no shell and no curl, so the binary does it.
struct HealthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Exit 0 when the local server answers 200 on its health path, else 1.",
        discussion: """
            GETs http://127.0.0.1:<port><path> once (no retries) and exits 0 on 200. The port is \
            --port, else $PORT, else 8080: inside the container it is the port `mscr serve` listens on.
            """)

    @Option(help: "The server's port (default: $PORT, else 8080).")
    var port: Int?
    @Option(help: "The path to GET.")
    var path = "/healthz"
    @Option(help: "Seconds to wait for the answer.")
    var timeout = 2.0

    func validate() throws {
        guard path.hasPrefix("/") else { throw ValidationError("--path must start with '/'") }
        guard timeout > 0 else { throw ValidationError("--timeout must be > 0") }
    }

    func run() throws {
        let port = port ?? ProcessInfo.processInfo.environment["PORT"].flatMap { Int($0) } ?? 8080
        let url = "http://127.0.0.1:\(port)\(path)"
        do {
            let response = try HTTPClient(configuration: .once(timeout: timeout))
                .send(HTTPRequest(method: "GET", url: url, display: url))
            guard response.status == 200 else {
                printError("unhealthy: GET \(url) answered \(response.status)")
                throw ExitCode(1)
            }
        } catch let error as ObjectStoreError {
            printError("unhealthy: \(error)")
            throw ExitCode(1)
        }
    }
}

import Functions
import ServiceLifecycle

/// The function host's worker and load pools as a service of the server's group. Services stop
/// in reverse order and this one comes first, so it stops last: once the HTTP server has drained
/// its requests, the pools finish what is queued on them and their threads end.
struct FunctionHostService: Service {
    let host: RuntimeHost

    func run() async throws {
        try? await gracefulShutdown()
        await host.shutdown()
    }
}

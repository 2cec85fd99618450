import Functions
import Logging
import ServiceLifecycle

/// Checks the model repository every `interval` for a newer committed version of each warm
/// "latest" function and hot-swaps to it. A `Service` of the server's group: it stops with
/// graceful shutdown.
struct VersionPollService: Service {
    let host: RuntimeHost
    let interval: Duration
    let logger: Logger

    func run() async throws {
        try? await cancelWhenGracefulShutdown { await self.loop() }
    }

    private func loop() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
            for (name, result) in await host.pollVersions() {
                switch result {
                case .success(.swapped(let from, let to)):
                    logger.notice(
                        "model swapped", metadata: ["function": "\(name)", "from": "\(from ?? 0)", "to": "\(to)"])
                case .success(.unchanged):
                    break
                case .failure(let error):
                    logger.error(
                        "new model version failed to load; the old one keeps serving",
                        metadata: ["function": "\(name)", "error": "\(error.message)"])
                }
            }
        }
    }
}

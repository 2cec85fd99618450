import Dispatch
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// Ends the process when work outlives the shutdown grace.
///
/// On SIGTERM the service group drains: the server stops accepting, in-flight requests get
/// `MSCR_SHUTDOWN_GRACE` to finish, then the group cancels what is left. A forward pass on a
/// worker thread cannot be cancelled, so without this service ServiceLifecycle would give up
/// after its cancellation timeout with a `fatalError` (exit by SIGILL, status 132, and a crash
/// report for an ordinary timeout). Instead, `margin` after the grace has passed this service
/// logs how long it waited and exits with status 1, as the platform's own SIGKILL would have
/// ended it moments later anyway.
///
/// It is the group's last service, so the group's graceful shutdown reaches it first: it arms
/// its timer and returns at once, and the group goes on to drain the server.
struct ShutdownWatchdog: Service {
    let grace: Duration
    let margin: Duration
    let logger: Logger

    func run() async throws {
        // Returns when the group begins its graceful shutdown (throws if cancelled first).
        guard (try? await gracefulShutdown()) != nil else { return }
        let limit = grace + margin
        let logger = logger
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Self.milliseconds(limit))) {
            logger.critical(
                "shutdown grace passed with work still running; exiting",
                metadata: ["grace_s": "\(grace)", "waited_s": "\(limit)"])
            exit(1)
        }
    }

    static func milliseconds(_ d: Duration) -> Int {
        let (seconds, attoseconds) = d.components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}

import Dispatch

/// A one-shot timer for request deadlines. Cancelling it releases its handler, and whatever the
/// handler captured, at once: a cancelled `DispatchWorkItem` scheduled with `asyncAfter` stays
/// queued until its deadline, which at 1000 requests/s and a 60 s deadline kept 200+ MB of dead
/// timers alive (found by the soak in RELIABILITY.md).
final class DeadlineTimer: @unchecked Sendable {
    private static let queue = DispatchQueue(label: "mscr.deadline-timer")
    // DispatchSource is thread-safe; `cancel` may be called from any thread, any number of times.
    private let source: DispatchSourceTimer

    init(after timeout: Duration, _ fire: @escaping @Sendable () -> Void) {
        source = DispatchSource.makeTimerSource(queue: Self.queue)
        source.setEventHandler(handler: fire)
        source.schedule(deadline: .now() + timeout.seconds, leeway: .milliseconds(10))
        source.resume()
    }

    func cancel() {
        source.cancel()
    }
}

import Foundation
import Testing

/// The one way Swift tests wait for something to happen (linked into each test target that
/// needs it): polls `condition` until it holds, failing the test with `what` if it does not
/// within `timeout`. Tests never sleep a fixed time and hope the other side is done.
func waitUntil(
    timeout: Duration = .seconds(30), _ what: @autoclosure () -> String = "a condition",
    sourceLocation: SourceLocation = #_sourceLocation, _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("timed out after \(timeout) waiting for \(what())", sourceLocation: sourceLocation)
            throw WaitTimeout()
        }
        try await Task.sleep(for: .milliseconds(5))
    }
}

/// Thrown by `waitUntil` when its condition did not hold in time.
struct WaitTimeout: Error {}

/// A gate a test opens: fixture work waits on it (blocking its thread, as the real work it
/// stands for would), so the test decides what is in flight instead of guessing with sleeps.
final class TestGate: @unchecked Sendable {
    private let condition = NSCondition()  // guards the two fields below
    private var isOpen = false
    private var blocked = 0

    init() {}

    /// Callers blocked in `wait()` right now.
    var waiting: Int {
        condition.lock()
        defer { condition.unlock() }
        return blocked
    }

    /// Blocks the calling thread until `open()`; returns at once once open.
    func wait() {
        condition.lock()
        defer { condition.unlock() }
        blocked += 1
        while !isOpen { condition.wait() }
        blocked -= 1
    }

    /// Lets every current and future `wait()` through.
    func open() {
        condition.lock()
        isOpen = true
        condition.broadcast()
        condition.unlock()
    }
}

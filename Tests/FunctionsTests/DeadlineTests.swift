import Dispatch
import Foundation
import Synchronization
import Testing

@testable import Functions

/// Deadlines must not keep anything alive after the work ends: the soak found cancelled
/// `asyncAfter` timers holding every response for the whole 60 s deadline (7 KB a request).
@Suite struct DeadlineTests {
    /// Counts live instances; one class per test, as tests run in parallel.
    final class Result: Sendable {
        static let alive = Atomic<Int>(0)
        init() { Self.alive.add(1, ordering: .relaxed) }
        deinit { Self.alive.subtract(1, ordering: .relaxed) }
    }

    final class Captured: Sendable {
        static let alive = Atomic<Int>(0)
        init() { Self.alive.add(1, ordering: .relaxed) }
        deinit { Self.alive.subtract(1, ordering: .relaxed) }
    }

    @Test("results of finished work are released at once, not when the deadline would have passed")
    func finishedWorkReleasesItsResult() async throws {
        let before = Result.alive.load(ordering: .relaxed)
        for _ in 0..<200 {
            let input = Result()
            let value = try await Deadline.run(.seconds(60)) { [input] in input }
            _ = value
        }
        try await waitUntil(timeout: .seconds(10), "the results to be released") {
            Result.alive.load(ordering: .relaxed) <= before
        }
    }

    @Test("a cancelled timer releases its handler at once")
    func cancelledTimerReleasesItsHandler() async throws {
        let before = Captured.alive.load(ordering: .relaxed)
        for _ in 0..<200 {
            let held = Captured()
            let timer = DeadlineTimer(after: .seconds(60)) { _ = held }
            timer.cancel()
        }
        try await waitUntil(timeout: .seconds(10), "the handlers to be released") {
            Captured.alive.load(ordering: .relaxed) <= before
        }
    }

    @Test("past the deadline the caller gets timeout while the work is still running, and the work is cancelled")
    func deadlinePasses() async throws {
        let flags = Flags()
        do {
            _ = try await Deadline.run(.milliseconds(100)) {
                do {
                    try await Task.sleep(for: .seconds(600))
                    flags.finished.store(true, ordering: .relaxed)
                } catch {
                    flags.cancelled.store(true, ordering: .relaxed)
                }
            }
            Issue.record("no timeout")
        } catch let error as FunctionError {
            #expect(error.code == .timeout)
            let finished = flags.finished.load(ordering: .relaxed)
            #expect(!finished)
        }
        try await waitUntil(timeout: .seconds(10), "the work to be cancelled") {
            flags.cancelled.load(ordering: .relaxed)
        }
    }

    @Test("control: the old asyncAfter timer kept each request's work alive until its deadline")
    func controlAsyncAfterRetains() async throws {
        // The old and the new timer side by side: once everything the new one held is gone,
        // everything the old one held is still alive (it would be for the full 60 s).
        let stale = Stale.alive.load(ordering: .relaxed)
        let fresh = Fresh.alive.load(ordering: .relaxed)
        for _ in 0..<50 {
            let input = Stale()
            let task = Task { [input] in input }
            _ = await task.value
            let item = DispatchWorkItem { task.cancel() }
            DispatchQueue.global().asyncAfter(deadline: .now() + 60, execute: item)
            item.cancel()

            let held = Fresh()
            let timer = DeadlineTimer(after: .seconds(60)) { _ = held }
            timer.cancel()
        }
        try await waitUntil(timeout: .seconds(10), "the new timers to release their handlers") {
            Fresh.alive.load(ordering: .relaxed) <= fresh
        }
        #expect(Stale.alive.load(ordering: .relaxed) >= stale + 50)
    }

    final class Flags: Sendable {
        let finished = Atomic<Bool>(false)
        let cancelled = Atomic<Bool>(false)
    }

    final class Stale: Sendable {
        static let alive = Atomic<Int>(0)
        init() { Self.alive.add(1, ordering: .relaxed) }
        deinit { Self.alive.subtract(1, ordering: .relaxed) }
    }

    final class Fresh: Sendable {
        static let alive = Atomic<Int>(0)
        init() { Self.alive.add(1, ordering: .relaxed) }
        deinit { Self.alive.subtract(1, ordering: .relaxed) }
    }
}

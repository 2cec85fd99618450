import Common

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A one-shot timer for request deadlines (every call has one). Cancelling it releases its
/// handler, and whatever the handler captured, at once: a cancelled `DispatchWorkItem` scheduled
/// with `asyncAfter` stays queued until its deadline, which at 1000 requests/s and a 60 s
/// deadline kept 200+ MB of dead timers alive (found by the soak in RELIABILITY.md).
///
/// The timers share one thread (``DeadlineTimers``): starting one is a heap insertion under a
/// lock, cancelling it clears its handler, and neither wakes the thread when deadlines come in
/// order (a request's is later than every earlier request's), so a request costs no thread
/// switch. (A `DispatchSource` per request made libdispatch's timer thread wake to arm and to
/// cancel each one: ~7 % of a warm stock request's CPU.)
package final class DeadlineTimer: @unchecked Sendable {
    static let shared = DeadlineTimers()

    /// When the handler runs, in ``DeadlineTimers/now()``'s nanoseconds.
    let deadline: UInt64
    /// Run once at the deadline; nil once it has run or the timer is cancelled. Guarded by the
    /// lock of the ``DeadlineTimers`` the timer is on.
    var handler: (@Sendable () -> Void)?

    /// The timers it runs on; nil for one only a ``DeadlineHeap`` holds (tests).
    private let timers: DeadlineTimers?

    /// A timer on the process's thread.
    package convenience init(after timeout: Duration, _ fire: @escaping @Sendable () -> Void) {
        self.init(after: timeout, on: Self.shared, fire)
    }

    /// A timer on `timers`.
    init(after timeout: Duration, on timers: DeadlineTimers, _ fire: @escaping @Sendable () -> Void) {
        deadline = timers.now() &+ Self.nanoseconds(timeout)
        handler = fire
        self.timers = timers
        timers.schedule(self)
    }

    /// `timeout` in nanoseconds: 0 when negative, at most 2^33 s (272 years) so that no
    /// timeout a caller can send (`grpc-timeout` allows 99999999 hours) overflows.
    static func nanoseconds(_ timeout: Duration) -> UInt64 {
        let (seconds, attoseconds) = timeout.components
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return 0 }
        if seconds >= 1 << 33 { return UInt64(1 << 33) * 1_000_000_000 }
        return UInt64(seconds) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000)
    }

    /// A timer on no thread, for a ``DeadlineHeap`` driven by hand (tests).
    init(deadline: UInt64, _ fire: @escaping @Sendable () -> Void) {
        self.deadline = deadline
        handler = fire
        timers = nil
    }

    /// Cancels the timer and releases its handler (a handler already running finishes); any
    /// thread, any number of times.
    package func cancel() {
        timers?.cancel(self)
    }
}

/// Deadline timers in a min-heap by deadline, cancelled ones removed lazily: from the top as
/// they come due, and all at once when they outnumber the live ones (so the heap holds about
/// the requests in flight, not every request of the last deadline period). No thread or clock
/// of its own: ``DeadlineTimers`` drives it, and the tests drive it with their own clock.
struct DeadlineHeap {
    private(set) var timers: [DeadlineTimer] = []
    /// Timers in `timers` whose handler is nil.
    private(set) var cancelled = 0

    var count: Int { timers.count }

    mutating func push(_ timer: DeadlineTimer) {
        timers.append(timer)
        siftUp(timers.count - 1)
    }

    /// Clears `timer`'s handler and returns it (to be released by the caller, outside any
    /// lock); nil when it had already run or been cancelled.
    mutating func cancel(_ timer: DeadlineTimer) -> (@Sendable () -> Void)? {
        guard let handler = timer.handler else { return nil }
        timer.handler = nil
        cancelled += 1
        if cancelled > 256, cancelled * 2 > timers.count { compact() }
        return handler
    }

    /// Takes the timers due at `now` off the heap and returns their handlers, earliest first
    /// (cancelled timers on top are dropped on the way).
    mutating func popDue(now: UInt64) -> [@Sendable () -> Void] {
        var due: [@Sendable () -> Void] = []
        while let top = timers.first, top.handler == nil || top.deadline <= now {
            let timer = pop()
            if let handler = timer.handler {
                timer.handler = nil
                due.append(handler)
            } else {
                cancelled -= 1
            }
        }
        return due
    }

    /// The earliest deadline of a live timer on top (cancelled ones above it dropped); nil
    /// when the heap is empty.
    mutating func nextDeadline() -> UInt64? {
        while let top = timers.first, top.handler == nil {
            _ = pop()
            cancelled -= 1
        }
        return timers.first?.deadline
    }

    /// Drops every cancelled timer and rebuilds the heap.
    mutating func compact() {
        timers.removeAll { $0.handler == nil }
        cancelled = 0
        for i in stride(from: timers.count / 2 - 1, through: 0, by: -1) { siftDown(i) }
    }

    private mutating func pop() -> DeadlineTimer {
        let top = timers[0]
        let last = timers.removeLast()
        if !timers.isEmpty {
            timers[0] = last
            siftDown(0)
        }
        return top
    }

    private mutating func siftUp(_ index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            guard timers[child].deadline < timers[parent].deadline else { return }
            timers.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ index: Int) {
        var parent = index
        while true {
            let left = 2 * parent + 1
            guard left < timers.count else { return }
            let right = left + 1
            let child = right < timers.count && timers[right].deadline < timers[left].deadline ? right : left
            guard timers[child].deadline < timers[parent].deadline else { return }
            timers.swapAt(child, parent)
            parent = child
        }
    }
}

/// The thread that runs ``DeadlineTimer`` handlers: it sleeps until the earliest live deadline
/// and is woken only by a timer due before that (or the first timer of an empty heap). Started
/// with the first timer and kept for the life of the process, as libdispatch's timer thread
/// was.
final class DeadlineTimers: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    // Guarded by `mutex`.
    private var heap = DeadlineHeap()
    private var started = false
    /// The deadline the thread sleeps until (`.max`: until woken); 0 while it is awake.
    private var sleepingUntil: UInt64 = 0

    init() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    /// The monotonic clock's nanoseconds.
    func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// The deadline the thread sleeps until, `.max` when until woken, 0 while awake (tests).
    var sleepingDeadline: UInt64 {
        locked { sleepingUntil }
    }

    func schedule(_ timer: DeadlineTimer) {
        let wake = locked { () -> Bool in
            heap.push(timer)
            if !started {
                started = true
                OSThread.start(stackSize: 256 << 10) { [self] in run() }
            }
            return timer.deadline < sleepingUntil
        }
        if wake { pthread_cond_signal(condition) }
    }

    func cancel(_ timer: DeadlineTimer) {
        // Released here, after the lock: whatever it captured may run code as it goes.
        let handler = locked { heap.cancel(timer) }
        _ = handler
    }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }

    private func run() {
        pthread_mutex_lock(mutex)
        while true {
            let due = heap.popDue(now: now())
            if !due.isEmpty {
                pthread_mutex_unlock(mutex)
                for handler in due { handler() }
                pthread_mutex_lock(mutex)
                continue
            }
            let next = heap.nextDeadline() ?? .max
            sleepingUntil = next
            if next == .max {
                pthread_cond_wait(condition, mutex)
            } else {
                var until = timespec(tv_sec: Int(next / 1_000_000_000), tv_nsec: Int(next % 1_000_000_000))
                pthread_cond_timedwait(condition, mutex, &until)
            }
            sleepingUntil = 0
        }
    }
}

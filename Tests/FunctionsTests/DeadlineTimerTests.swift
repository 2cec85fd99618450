import Inference
import Synchronization
import Testing

@testable import Functions

/// The deadline timers' heap driven by hand with its own clock (against a naive model: a list
/// searched in full), and the timer thread's one subtle duty: waking early for a timer due
/// before the one it sleeps until.
@Suite struct DeadlineTimerTests {
    /// Records which timers fired, in order.
    final class Fired: Sendable {
        let ids = Mutex<[Int]>([])
        func handler(_ id: Int) -> @Sendable () -> Void { { self.ids.withLock { $0.append(id) } } }
    }

    @Test("due timers fire in deadline order, cancelled ones never, against a naive model over random operations")
    func matchesNaiveModel() {
        var rng = SeededGenerator(seed: 7)
        for round in 0..<20 {
            var heap = DeadlineHeap()
            let fired = Fired()
            // The model: every live timer as (deadline, id), searched in full.
            var model: [(deadline: UInt64, id: Int)] = []
            var timers: [Int: DeadlineTimer] = [:]
            var now: UInt64 = 0
            for id in 0..<400 {
                switch rng.next() % 10 {
                case 0..<5:
                    // Mostly in order (later than the last), sometimes earlier, some equal.
                    let deadline = now + rng.next() % 1000
                    let timer = DeadlineTimer(deadline: deadline, fired.handler(id))
                    timers[id] = timer
                    heap.push(timer)
                    model.append((deadline, id))
                case 5..<8:
                    guard let victim = model.randomElement(using: &rng) else { continue }
                    _ = heap.cancel(timers[victim.id]!)
                    model.removeAll { $0.id == victim.id }
                default:
                    now += rng.next() % 300
                    let due = model.filter { $0.deadline <= now }
                    model.removeAll { $0.deadline <= now }
                    let handlers = heap.popDue(now: now)
                    let before = fired.ids.withLock { $0.count }
                    for handler in handlers { handler() }
                    let got = fired.ids.withLock { Array($0[before...]) }
                    let dueSet = Set(due.map(\.id))
                    #expect(Set(got) == dueSet, "round \(round)")
                    let deadlines = got.map { id in timers[id]!.deadline }
                    #expect(deadlines == deadlines.sorted(), "earliest first, round \(round)")
                }
                #expect(heap.nextDeadline() == model.map(\.deadline).min(), "round \(round)")
            }
        }
    }

    @Test("a cancelled timer's handler, and what it captured, is released at once; a second cancel is a no-op")
    func cancelReleases() {
        let counter = Counter()
        var heap = DeadlineHeap()
        do {
            let probe = Probe(counter)
            let timer = DeadlineTimer(deadline: 10) { _ = probe }
            heap.push(timer)
            #expect(heap.cancel(timer) != nil)
            #expect(heap.cancel(timer) == nil)
        }
        #expect(counter.value.load(ordering: .relaxed) == 1, "released before the deadline came")
        #expect(heap.popDue(now: 100).isEmpty)
    }

    @Test("cancelled timers are dropped in bulk: the heap holds about the live ones, not every timer since")
    func staysSmall() {
        var heap = DeadlineHeap()
        var live: [DeadlineTimer] = []
        var largest = 0
        // 100 000 requests, 8 in flight at a time, each cancelled when it ends (as every call's
        // deadline is): with a 60 s deadline none would come due.
        for i in 0..<100_000 {
            let timer = DeadlineTimer(deadline: UInt64(60_000_000_000 + i), {})
            heap.push(timer)
            live.append(timer)
            if live.count > 8 { _ = heap.cancel(live.removeFirst()) }
            largest = max(largest, heap.count)
        }
        #expect(largest <= 600)
        #expect(heap.nextDeadline() == live.first?.deadline)
    }

    @Test("timeouts become nanoseconds without overflow: negative is now, huge is capped")
    func timeoutNanoseconds() {
        #expect(DeadlineTimer.nanoseconds(.milliseconds(1500)) == 1_500_000_000)
        #expect(DeadlineTimer.nanoseconds(.nanoseconds(7)) == 7)
        #expect(DeadlineTimer.nanoseconds(.seconds(-3)) == 0)
        #expect(DeadlineTimer.nanoseconds(.milliseconds(-500)) == 0)
        #expect(DeadlineTimer.nanoseconds(.zero) == 0)
        // grpc-timeout's largest, 99999999 hours, and Duration's largest.
        let cap = UInt64(1 << 33) * 1_000_000_000
        #expect(DeadlineTimer.nanoseconds(.seconds(99_999_999 * 3600)) == cap)
        #expect(DeadlineTimer.nanoseconds(.seconds(Int64.max)) == cap)
    }

    @Test("a timer due before the one the thread sleeps until wakes it")
    func earlierTimerWakesTheThread() async throws {
        let timers = DeadlineTimers()
        let late = Counter()
        let early = Counter()
        let far = DeadlineTimer(after: .seconds(600), on: timers) { late.value.add(1, ordering: .relaxed) }
        // Once the thread has gone to sleep until `far`…
        try await waitUntil(timeout: .seconds(10), "the thread to sleep until the far timer") {
            timers.sleepingDeadline == far.deadline
        }
        let near = DeadlineTimer(after: .milliseconds(20), on: timers) { early.value.add(1, ordering: .relaxed) }
        try await waitUntil(timeout: .seconds(10), "the near timer to fire") {
            early.value.load(ordering: .relaxed) == 1
        }
        #expect(late.value.load(ordering: .relaxed) == 0)
        far.cancel()
        near.cancel()
    }
}

final class Counter: Sendable {
    let value = Atomic<Int>(0)
}

/// Counts its own release.
final class Probe: Sendable {
    let counter: Counter
    init(_ counter: Counter) { self.counter = counter }
    deinit { counter.value.add(1, ordering: .relaxed) }
}

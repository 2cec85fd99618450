import Dispatch
import Synchronization
import Testing

@testable import Functions

/// The gate's hand-off under deterministic interleavings: a test seam runs a release exactly in
/// the window between "no free slot" and "wait in the queue".
@Suite struct AdmissionGateTests {
    @Test("a release between the full check and queueing grants the slot instead of leaving the caller asleep")
    func releaseInTheQueueingWindow() async throws {
        let holder = Mutex<AdmissionGate?>(nil)
        let fired = Atomic<Int>(0)
        let gate = AdmissionGate(limit: 1, queueLimit: 4, label: "test") {
            // The only holder finishes exactly now.
            if fired.add(1, ordering: .relaxed).newValue == 1 { holder.withLock { $0 }?.release() }
        }
        holder.withLock { $0 = gate }
        try await gate.acquire()
        #expect(gate.active == 1)

        let second = Task { try await gate.acquire() }
        // With the lost wakeup the caller sits in the queue beside a free slot (active 0, queued 1).
        do {
            try await waitUntil(timeout: .seconds(10), "the second caller to hold the freed slot") {
                gate.queued == 0 && gate.active == 1 && fired.load(ordering: .relaxed) == 1
            }
        } catch {
            second.cancel()
        }
        try await second.value
        #expect(gate.active == 1 && gate.queued == 0)
        gate.release()
        #expect(gate.active == 0)
    }

    @Test("a full queue rejects at once with overloaded; a waiter gets the slot of the next release in FIFO order")
    func queueOrderAndRejection() async throws {
        let gate = AdmissionGate(limit: 1, queueLimit: 2, label: "test")
        try await gate.acquire()
        let order = Shared<[Int]>([])
        let first = Task {
            try await gate.acquire()
            order.mutate { $0.append(1) }
        }
        try await waitUntil(timeout: .seconds(10)) { gate.queued == 1 }
        let second = Task {
            try await gate.acquire()
            order.mutate { $0.append(2) }
        }
        try await waitUntil(timeout: .seconds(10)) { gate.queued == 2 }
        await #expect(throws: FunctionError.self) { try await gate.acquire() }

        gate.release()
        try await first.value
        #expect(order.value == [1] && gate.active == 1 && gate.queued == 1)
        gate.release()
        try await second.value
        #expect(order.value == [1, 2] && gate.active == 1 && gate.queued == 0)
        gate.release()
        #expect(gate.active == 0)
    }

    @Test("a cancelled waiter leaves the queue and its slot goes to nobody")
    func cancelledWaiterLeaves() async throws {
        let gate = AdmissionGate(limit: 1, queueLimit: 2, label: "test")
        try await gate.acquire()
        let waiter = Task { try await gate.acquire() }
        try await waitUntil(timeout: .seconds(10)) { gate.queued == 1 }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(gate.queued == 0 && gate.active == 1)
        gate.release()
        #expect(gate.active == 0)
    }

    @Test("many callers through a gate of 3: never more than 3 inside, nobody left waiting, every slot returned")
    func contention() async throws {
        let gate = AdmissionGate(limit: 3, queueLimit: 1000, label: "test")
        let inside = Shared(0)
        let most = Shared(0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<400 {
                group.addTask {
                    try await gate.acquire()
                    let now = inside.mutate {
                        $0 += 1
                        return $0
                    }
                    most.mutate { $0 = max($0, now) }
                    await Task.yield()
                    inside.mutate { $0 -= 1 }
                    gate.release()
                }
            }
            try await group.waitForAll()
        }
        #expect(most.value <= 3)
        #expect(gate.active == 0 && gate.queued == 0)
    }
}

/// A value shared between tasks, behind a lock.
final class Shared<Value: Sendable>: Sendable {
    private let state: Mutex<Value>
    init(_ value: Value) { state = Mutex(value) }
    var value: Value { state.withLock { $0 } }
    @discardableResult
    func mutate<R: Sendable>(_ body: (inout Value) -> R) -> R { state.withLock { body(&$0) } }
}

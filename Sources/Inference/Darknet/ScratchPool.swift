import InferenceKernels
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One request's working memory: every layer buffer and the workspace, in one allocation laid
/// out by a `MemoryPlan`. Owned by exactly one caller at a time (checked out of a `ScratchPool`).
package final class ScratchArena: @unchecked Sendable {
    package let base: UnsafeMutablePointer<Float>
    package let count: Int
    /// `table[i + 1]`: buffer of layer `i`; `table[0]`: the network input.
    package let table: UnsafeMutablePointer<UnsafeMutablePointer<Float>>
    /// `workspaces[i]`: layer `i`'s workspace (placed by the plan beside the buffers it must not touch).
    package let workspaces: UnsafeMutablePointer<UnsafeMutablePointer<Float>>
    /// The preprocessing's workspace (resize rows), clear of the network input.
    package let inputWorkspace: UnsafeMutablePointer<Float>

    /// True when `base` is an anonymous mapping of `count · 4` bytes (else a heap allocation).
    private let mapped: Bool

    package init(plan: MemoryPlan) {
        count = max(plan.totalFloats, 16)
        // Every page present now, so the first request does not pay for page faults: one
        // pre-faulted anonymous mapping (zeroed by the kernel, in one call: faulting the 820
        // pages of yolo-fastest's arena one by one and zeroing them took ~1.9 ms of its cold
        // start), or, where that fails, the heap, touched.
        #if canImport(Glibc)
        let p = mmap(nil, count * 4, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0)
        if let p, p != MAP_FAILED {
            base = p.bindMemory(to: Float.self, capacity: count)
            mapped = true
        } else {
            base = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64)
                .bindMemory(to: Float.self, capacity: count)
            base.initialize(repeating: 0, count: count)
            mapped = false
        }
        #else
        base = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: count)
        base.initialize(repeating: 0, count: count)
        mapped = false
        #endif
        table = .allocate(capacity: plan.offsets.count)
        for (i, offset) in plan.offsets.enumerated() { (table + i).initialize(to: base + offset) }
        workspaces = .allocate(capacity: max(1, plan.workspaceOffsets.count))
        for (i, offset) in plan.workspaceOffsets.enumerated() { (workspaces + i).initialize(to: base + offset) }
        inputWorkspace = base + plan.inputWorkspaceOffset
    }

    deinit {
        table.deallocate()
        workspaces.deallocate()
        #if canImport(Glibc)
        if mapped {
            munmap(UnsafeMutableRawPointer(base), count * 4)
            return
        }
        #endif
        UnsafeMutableRawPointer(base).deallocate()
    }
}

/// Arenas for concurrent requests: created at load (`prepared` of them) and reused. A request
/// that finds the pool empty gets a new arena, kept afterwards only while the pool holds fewer
/// than `capacity`.
package final class ScratchPool: Sendable {
    package let plan: MemoryPlan
    package let capacity: Int
    private let free: Mutex<[ScratchArena]>

    package init(plan: MemoryPlan, prepared: Int, capacity: Int) {
        self.plan = plan
        self.capacity = max(1, capacity)
        free = Mutex((0..<max(0, min(prepared, capacity))).map { _ in ScratchArena(plan: plan) })
    }

    /// Runs `body` with an arena nobody else is using.
    package func withArena<R>(_ body: (ScratchArena) throws -> R) rethrows -> R {
        let arena = free.withLock { $0.popLast() } ?? ScratchArena(plan: plan)
        defer {
            free.withLock { if $0.count < capacity { $0.append(arena) } }
        }
        return try body(arena)
    }

    /// Arenas waiting in the pool.
    package var idleCount: Int { free.withLock { $0.count } }
}

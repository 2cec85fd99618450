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
    /// The arena's floats, every page present from the start.
    private let storage: PrefaultedFloats

    package init(plan: MemoryPlan) {
        storage = PrefaultedFloats(count: plan.totalFloats)
        base = storage.base
        count = storage.count
        table = .allocate(capacity: plan.offsets.count)
        for (i, offset) in plan.offsets.enumerated() { (table + i).initialize(to: base + offset) }
        workspaces = .allocate(capacity: max(1, plan.workspaceOffsets.count))
        for (i, offset) in plan.workspaceOffsets.enumerated() { (workspaces + i).initialize(to: base + offset) }
        inputWorkspace = base + plan.inputWorkspaceOffset
    }

    deinit {
        table.deallocate()
        workspaces.deallocate()
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

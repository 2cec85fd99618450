import FoundationEssentials
import Synchronization

/// The memory the loaded models of one instance may use (`MSCR_MEMORY_LIMIT`, by default the
/// cgroup's `memory.max` less headroom). Before a cold load the host charges the model's estimate
/// here; when it does not fit, the least recently used idle function is evicted (back to cold),
/// and when nothing idle is left to evict the request gets 503 with Retry-After instead of the
/// instance being OOM-killed. A slot's charge becomes its model's own size once loaded.
///
/// One lock orders every decision: a charge and the evictions that make room for it happen in
/// one critical section, so two cold loads cannot both count the same free bytes.
package final class MemoryBudget: Sendable {
    /// Bytes the models may use; nil: no budget.
    package let limit: Int?
    private struct State {
        var charges: [String: Int] = [:]
        var slots: [any BudgetedSlot] = []
    }
    private let state = Mutex(State())
    private let onEvict: @Sendable (FunctionConfig, Int) -> Void

    package init(limit: Int?, onEvict: @escaping @Sendable (FunctionConfig, Int) -> Void = { _, _ in }) {
        self.limit = limit
        self.onEvict = onEvict
    }

    func attach(_ slots: [any BudgetedSlot]) { state.withLock { $0.slots = slots } }

    /// Bytes charged now, by function.
    package var charges: [String: Int] { state.withLock { $0.charges } }

    /// Charges `bytes` to `slot`, evicting least recently used idle functions until they fit.
    func charge(_ slot: any BudgetedSlot, bytes: Int) throws {
        var evicted: [(FunctionConfig, Int)] = []
        defer { for (config, bytes) in evicted { onEvict(config, bytes) } }
        try state.withLock { s in
            guard let limit else {
                s.charges[slot.config.name] = bytes
                return
            }
            let name = slot.config.name
            guard bytes <= limit else {
                throw FunctionError(
                    .unavailable,
                    "function '\(name)' needs about \(Self.mib(bytes)) for its model, more than the memory budget of \(Self.mib(limit)) (MSCR_MEMORY_LIMIT)",
                    retryAfter: 60, underlying: MemoryRefusal())
            }
            func used() -> Int { s.charges.filter { $0.key != name }.values.reduce(0, +) }
            while used() + bytes > limit {
                let candidates = s.slots.filter { $0 !== slot && (s.charges[$0.config.name] ?? 0) > 0 }
                    .sorted { $0.lastUsed < $1.lastUsed }
                guard let victim = candidates.first(where: { $0.evictIfIdle() }) else {
                    let busy = candidates.map(\.config.name).joined(separator: ", ")
                    throw FunctionError(
                        .unavailable,
                        "no memory for function '\(name)' now: it needs about \(Self.mib(bytes)), \(Self.mib(limit - used())) of \(Self.mib(limit)) is free and every other loaded function (\(busy)) is serving a request",
                        retryAfter: 1, underlying: MemoryRefusal())
                }
                let freed = s.charges.removeValue(forKey: victim.config.name) ?? 0
                evicted.append((victim.config, freed))
            }
            s.charges[name] = bytes
        }
    }

    /// Sets the charge of `slot` without evicting (its measured size after a load).
    func settle(_ slot: any BudgetedSlot, bytes: Int) { state.withLock { $0.charges[slot.config.name] = bytes } }

    /// Drops the charge of `slot` (its load failed).
    func release(_ slot: any BudgetedSlot) { _ = state.withLock { $0.charges.removeValue(forKey: slot.config.name) } }

    static func mib(_ bytes: Int) -> String {
        "\((Double(bytes) / 1_048_576).rounded()) MiB".replacing(".0 MiB", with: " MiB")
    }

    /// The default budget: the cgroup's `memory.max` (v2) or `memory.limit_in_bytes` (v1) less a
    /// quarter (at least 128 MiB) for the runtime, requests and scratch; nil when unlimited.
    package static func defaultLimit() -> Int? {
        for path in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8),
                let bytes = Int(text.filter { !$0.isWhitespace }),
                bytes > 0, bytes < 1 << 50
            else { continue }
            return max(0, bytes - max(128 << 20, bytes / 4))
        }
        return nil
    }

    /// Parses `MSCR_MEMORY_LIMIT`: bytes, or a number with K, M, G (powers of 1000) or Ki, Mi,
    /// Gi (powers of 1024); `none` turns the budget off. Nil for anything else.
    package static func parse(_ text: String) -> Int?? {
        if text == "none" { return .some(nil) }
        let units: [(String, Double)] = [
            ("Ki", 1024), ("Mi", 1_048_576), ("Gi", 1_073_741_824), ("K", 1e3), ("M", 1e6), ("G", 1e9),
        ]
        var number = Substring(text)
        var scale = 1.0
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            number = text.dropLast(suffix.count)
            scale = factor
            break
        }
        guard let value = Double(number), value.isFinite, value > 0 else { return nil }
        return .some(Int(value * scale))
    }
}

extension MemoryBudget {
    /// Makes every allocation of 256 KiB or more its own mapping, so the weights and scratch of
    /// an evicted model go back to the system when it is freed. glibc's default raises that
    /// threshold after the first large free, and a model freed into the heap then stays in the
    /// process's RSS: the budget would count memory the kernel still charges to the container.
    package static func returnFreedModelsToTheSystem() {
        #if canImport(Glibc)
        _ = glibcMallopt(mmapThreshold, 256 << 10)
        #endif
    }
}

#if canImport(Glibc)
/// `M_MMAP_THRESHOLD` of `<malloc.h>`.
private let mmapThreshold: Int32 = -3

/// glibc's `int mallopt(int param, int value)`; `<malloc.h>` is not part of the Glibc module.
@_silgen_name("mallopt")
private func glibcMallopt(_ param: Int32, _ value: Int32) -> Int32
#endif

/// Marks a load refused by the memory budget: not a model failure, so no backoff follows.
struct MemoryRefusal: Error {}

/// What the budget sees of a function slot: its name, when it was last used, and a way to send
/// it back to cold.
protocol BudgetedSlot: AnyObject, Sendable {
    var config: FunctionConfig { get }
    /// When a request last took the model.
    var lastUsed: UInt64 { get }
    /// Drops the serving model when nothing holds or waits for it; true when it did.
    func evictIfIdle() -> Bool
}

extension FunctionSlot: BudgetedSlot {}

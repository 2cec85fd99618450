import Foundation

/// The engine's thread count: OpenBLAS's pool, process-wide.
package enum InferenceThreads {
    /// Sets the number of threads every matrix product uses (process-wide).
    package static func set(_ n: Int) {
        Gemm.setThreads(n)
        Parallel.setThreads(n)
    }

    /// Current thread count.
    package static var current: Int { Gemm.threads }

    /// The CPU quota of this process: the cgroup v2 `cpu.max` limit (rounded up) when there is
    /// one, else the number of online processors.
    package static func defaultCount() -> Int {
        let cpus = ProcessInfo.processInfo.activeProcessorCount
        if let text = try? String(contentsOfFile: "/sys/fs/cgroup/cpu.max", encoding: .utf8) {
            let parts = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
            if parts.count >= 2, let quota = Double(parts[0]), let period = Double(parts[1]), period > 0 {
                return max(1, min(cpus, Int((quota / period).rounded(.up))))
            }
        }
        return max(1, cpus)
    }
}

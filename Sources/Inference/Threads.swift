import FoundationEssentials
import InferenceKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The engine's thread count, process-wide. The engine splits each layer over this many threads
/// itself and keeps OpenBLAS single-threaded inside each part: OpenBLAS's own threads spin at
/// fine-grained barriers and lose badly when the cores are shared (measured: yolov3 @416 on 2
/// threads under load was slower than on 1).
package enum InferenceThreads {
    /// Sets the number of threads one inference uses.
    package static func set(_ n: Int) {
        Gemm.stopOwnThreads()
        Parallel.setThreads(n)
    }

    /// Current thread count.
    package static var current: Int { Parallel.threads }

    /// A request taken in (admitted or queued) until `requestEnded`: while several are, each
    /// inference uses its share of the threads (`Parallel.threads`).
    package static func requestStarted() { Parallel.requestStarted() }
    package static func requestEnded() { Parallel.requestEnded() }

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

/// The GEMM instruction set (see `InferenceKernels.KernelISA`), for the runtime and the CLI.
package typealias KernelISA = InferenceKernels.KernelISA

extension KernelISA {
    /// Reads `MSCR_KERNEL_ISA`: unset, empty or `auto` is what this CPU supports best; `avx2` or
    /// `avx512` force one (for comparisons). Anything else, or `avx512` on a CPU without it, is
    /// an error naming the variable.
    package static func fromEnvironment(_ raw: String?) throws(InferenceError) -> KernelISA {
        guard let raw, !raw.isEmpty, raw != "auto" else { return detected }
        guard let isa = KernelISA(rawValue: raw) else {
            throw InferenceError(.invalidInput, "MSCR_KERNEL_ISA=\(raw) is not auto, avx2 or avx512")
        }
        guard isa == .avx2 || detected == .avx512 else {
            throw InferenceError(.invalidInput, "MSCR_KERNEL_ISA=\(raw): this CPU has no AVX-512 (use auto or avx2)")
        }
        return isa
    }
}

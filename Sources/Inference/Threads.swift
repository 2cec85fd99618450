import FoundationEssentials
import InferenceKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How many threads the engine should use here. The threads themselves belong to a
/// `ComputePool` that each owner (the server, a CLI command) makes with this count; the engine
/// splits each layer over them itself and keeps OpenBLAS single-threaded inside each part
/// (`Gemm.stopOwnThreads`): OpenBLAS's own threads spin at fine-grained barriers and lose badly
/// when the cores are shared (measured: yolov3 @416 on 2 threads under load was slower than on 1).
package enum InferenceThreads {
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

/// The engine's threads for one owner (see `InferenceKernels.ComputePool`).
package typealias ComputePool = InferenceKernels.ComputePool

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

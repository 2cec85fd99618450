import CCPUFeatures
import Synchronization

/// The vector instruction set the GEMM register blocks use: AVX2 + FMA everywhere (the build's
/// baseline), AVX-512 where the CPU and OS support it (`InferenceAVX512Kernels`). Packed layouts
/// are the same for both, so only the inner loops change.
package enum KernelISA: String, Sendable, CaseIterable {
    case avx2
    case avx512

    /// What this machine supports best.
    package static let detected: KernelISA = mscr_cpu_has_avx512() != 0 ? .avx512 : .avx2

    private static let selected = Atomic<Int>(detected == .avx512 ? 1 : 0)

    /// The set in use (`detected` unless `select` chose otherwise).
    package static var current: KernelISA { selected.load(ordering: .relaxed) == 1 ? .avx512 : .avx2 }

    /// Uses `isa` from now on; false (and no change) when the CPU does not support it.
    @discardableResult
    package static func select(_ isa: KernelISA) -> Bool {
        guard isa == .avx2 || detected == .avx512 else { return false }
        selected.store(isa == .avx512 ? 1 : 0, ordering: .relaxed)
        return true
    }
}

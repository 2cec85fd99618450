import CBLAS

/// The one seam to `cblas_sgemm`: every matrix product of the engine goes through here.
package enum Gemm {
    /// `C[m×n] = A[m×k] · B[k×n] + beta · C`, all row-major with leading dimensions
    /// `lda`, `ldb`, `ldc` (floats between the starts of two rows).
    @inline(__always)
    package static func multiply(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        beta: Float = 0
    ) {
        guard m > 0, n > 0, k > 0 else { return }
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans,
            blasint(m), blasint(n), blasint(k),
            1, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    /// Makes OpenBLAS single-threaded and stops the worker threads it starts when the library
    /// loads. The engine runs OpenBLAS on one thread inside its own parallel parts, so they never
    /// get work, yet each spins (`sched_yield`) for 0.1-0.2 s after start, and again after every
    /// `openblas_set_num_threads`, before it sleeps (BENCHMARKS.md, session 4). `main` calls it
    /// first; idempotent.
    package static func stopOwnThreads() {
        openblas_set_num_threads(1)
        _ = blas_thread_shutdown_()
    }

    /// OpenBLAS's current thread count.
    package static var threads: Int { Int(openblas_get_num_threads()) }
}

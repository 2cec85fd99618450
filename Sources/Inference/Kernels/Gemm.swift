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

    /// Makes OpenBLAS single-threaded and stops the worker threads it started when the library
    /// was loaded. The engine runs OpenBLAS on one thread inside its own parallel parts, so those
    /// threads never get work, but each one spins (sched_yield) for ~0.1-0.2 s after the process
    /// starts, and again after every `openblas_set_num_threads` (which restarts them), before it
    /// sleeps: a Yolo-Fastest benchmark used 120 % CPU and 0.49 s instead of
    /// 99 % and 0.33 s, a cold start's first forwards ran up to 2× slower, and `mscr health`
    /// burned a core for its whole life. Call it first thing in `main`; idempotent.
    package static func stopOwnThreads() {
        openblas_set_num_threads(1)
        _ = blas_thread_shutdown_()
    }

    /// OpenBLAS's current thread count.
    package static var threads: Int { Int(openblas_get_num_threads()) }
}

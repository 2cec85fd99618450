import InferenceAVX512Kernels

/// `PanelGemm` with B read where it lies: a 1×1 convolution's input planes already are B
/// (`[k × pixels]`, row-major), so copying them into 24-column panels first (`Im2col.unfoldPanels`)
/// only moves every input float once more. Measured per layer on yolov8n's 1×1 shapes (1 thread,
/// AVX-512, CPU time, product alone): 192→64 @80 0.79 against 1.05 ms unfolded, 128→64 @80 0.51
/// against 0.67, 64→64 @80 0.27 against 0.35, 384→128 @40 0.75 against 0.93; with 32–48 input
/// channels @160 no faster (0.51 against 0.48 ms), so `PanelConvolution` uses it from
/// `inPlaceMinK` on.
extension PanelGemm {
    /// Shortest reduction `multiplyInPlace` is used for (see above).
    package static let inPlaceMinK = 64

    /// Whether `multiplyInPlace` runs with `isa` (its register blocks are AVX-512 only).
    package static func multipliesInPlace(isa: KernelISA) -> Bool {
        isa == .avx512 && KernelISA.detected == .avx512
    }

    /// `C[m×n] = A · B` for A in panels (`packA`) and B row-major `[k × ldb]` read in place,
    /// 24 columns at a time: `n` must be a multiple of 24, and only `multipliesInPlace(isa:)`
    /// ISAs may call it. Writes exactly `C[0 ..< m, 0 ..< n]` (rows past `m` of the last A panel
    /// go through a small buffer).
    package static func multiplyInPlace(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0, k > 0 else { return }
        let aPanel = 4 * k
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 8 * 24) { buffer in
            let edge = buffer.baseAddress!
            var j = 0
            while j + 24 <= n {
                let pb = b + j
                let cj = c + j
                var q = 0
                while 4 * q < m {
                    let rows = 4 * q + 8 <= m ? 8 : 4
                    let valid = min(rows, m - 4 * q)
                    let whole = valid == rows
                    let dst = whole ? cj + 4 * q * ldc : edge
                    let ld = whole ? ldc : 24
                    let pa = a + q * aPanel
                    if rows == 8 {
                        PanelGemm512.block8x24Strided(k, pa, pa + aPanel, pb, ldb, dst, ld)
                    } else {
                        PanelGemm512.block4x24Strided(k, pa, pb, ldb, dst, ld)
                    }
                    if !whole {
                        for r in 0..<valid { (cj + (4 * q + r) * ldc).update(from: edge + 24 * r, count: 24) }
                    }
                    q += rows / 4
                }
                j += 24
            }
        }
    }
}

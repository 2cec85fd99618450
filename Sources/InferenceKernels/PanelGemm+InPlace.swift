import InferenceAVX512Kernels

/// `PanelGemm` with B read where it lies: a 1×1 convolution's input planes already are B
/// (`[k × pixels]`, row-major), so copying them into 24-column panels first (`Im2col.unfoldPanels`)
/// only moves every input float once more. Measured per layer on yolov8n's 1×1 shapes (1 thread,
/// AVX-512, CPU time, product alone): 192→64 @80 0.79 against 1.05 ms unfolded, 128→64 @80 0.51
/// against 0.67, 64→64 @80 0.27 against 0.35, 384→128 @40 0.75 against 0.93; with 32–48 input
/// channels @160 no faster (0.51 against 0.48 ms). With 48-column blocks that step k one at a
/// time (`PanelGemm512+Rows48`) 0.58, 0.20 and 0.58 ms there, and 32→32 @160 0.26 against 0.32
/// unfolded, so `PanelConvolution` uses it from `inPlaceMinK` = 32 channels on.
extension PanelGemm {
    /// Shortest reduction `multiplyInPlace` is used for (see above).
    package static let inPlaceMinK = 32

    /// Whether `multiplyInPlace` runs with `isa` (its register blocks are AVX-512 only).
    package static func multipliesInPlace(isa: KernelISA) -> Bool {
        isa == .avx512 && KernelISA.detected == .avx512
    }

    /// `C[m×n] = A · B` for A in panels (`packA`) and B row-major `[k × ldb]` read in place,
    /// 48 columns at a time (`PanelGemm512+Rows48`), the last 24 alone if n is an odd number of
    /// 24s: `n` must be a multiple of 24, and only `multipliesInPlace(isa:)`
    /// ISAs may call it. Writes exactly `C[0 ..< m, 0 ..< n]` (rows past `m` of the last A panel
    /// go through a small buffer).
    package static func multiplyInPlace(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0, k > 0 else { return }
        let aPanel = 4 * k
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 8 * 48) { buffer in
            let edge = buffer.baseAddress!
            var j = 0
            while j + 24 <= n {
                let width = j + 48 <= n ? 48 : 24
                let pb = b + j
                let cj = c + j
                var q = 0
                while 4 * q < m {
                    let rows = 4 * q + 8 <= m ? 8 : 4
                    let valid = min(rows, m - 4 * q)
                    let whole = valid == rows
                    let dst = whole ? cj + 4 * q * ldc : edge
                    let ld = whole ? ldc : width
                    let pa = a + q * aPanel
                    switch (rows, width) {
                    case (8, 48): PanelGemm512.block8x48Strided(k, pa, pa + aPanel, pb, ldb, dst, ld)
                    case (4, 48): PanelGemm512.block4x48Strided(k, pa, pb, ldb, dst, ld)
                    case (8, _): PanelGemm512.block8x24Strided(k, pa, pa + aPanel, pb, ldb, dst, ld)
                    default: PanelGemm512.block4x24Strided(k, pa, pb, ldb, dst, ld)
                    }
                    if !whole {
                        for r in 0..<valid { (cj + (4 * q + r) * ldc).update(from: edge + width * r, count: width) }
                    }
                    q += rows / 4
                }
                j += width
            }
        }
    }
}

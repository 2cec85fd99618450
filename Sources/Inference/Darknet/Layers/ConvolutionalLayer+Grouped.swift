import InferenceKernels

/// The fallback path: im2col + GEMM (OpenBLAS or `SmallGemm`), per group.
extension ConvolutionalLayer {
    /// im2col + GEMM per group, a block of output rows at a time (1×1 stride-1 convolutions skip
    /// im2col). Returns true when bias and activation were applied in the GEMM (`SmallGemm`).
    func convolveGrouped(
        _ src: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
        _ dst: UnsafeMutablePointer<Float>, _ workspace: UnsafeMutablePointer<Float>
    ) -> Bool {
        let cg = input.channels / groups
        let ng = filters / groups
        let k = cg * size * size
        let spatialOut = outputShape.spatial
        let ow = outputShape.width
        let small = Self.prefersSmallGemm(m: ng, k: k)
        // C[ng × n] (ldc = spatialOut) = A[ng × k] · B[k × n] (ldb), split over the inference
        // threads: by columns, or by rows of A when A is the bigger operand (each part then packs
        // only its share of it). OpenBLAS itself runs single-threaded inside each part.
        func product(
            _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int, _ ldb: Int,
            _ c: UnsafeMutablePointer<Float>, _ g: Int
        ) {
            let panels = (n + 15) / 16
            if small {
                Parallel.forEach(panels, cost: 16 * k * ng) { r in
                    let j0 = r.lowerBound * 16
                    let j1 = min(n, r.upperBound * 16)
                    SmallGemm.multiply(
                        m: ng, n: j1 - j0, k: k, a: a, b: b + j0, ldb: ldb, c: c + j0, ldc: spatialOut,
                        bias: bias + g * ng, activation: activation)
                }
            } else if ng > n {
                Parallel.forEach(ng, cost: n * k) { r in
                    Gemm.multiply(
                        m: r.count, n: n, k: k, a: a + r.lowerBound * k, lda: k, b: b, ldb: ldb,
                        c: c + r.lowerBound * spatialOut, ldc: spatialOut)
                }
            } else {
                Parallel.forEach(panels, cost: 16 * k * ng) { r in
                    let j0 = r.lowerBound * 16
                    let j1 = min(n, r.upperBound * 16)
                    Gemm.multiply(
                        m: ng, n: j1 - j0, k: k, a: a, lda: k, b: b + j0, ldb: ldb, c: c + j0, ldc: spatialOut)
                }
            }
        }
        for g in 0..<groups {
            let a = w + g * ng * k  // [ng × k]
            let plane = src + g * cg * input.spatial  // [cg × h × w]
            let out = dst + g * ng * spatialOut  // [ng × oh·ow]
            if isPointwise {
                product(a, plane, spatialOut, spatialOut, out, g)
                continue
            }
            var row = 0
            while row < outputShape.height {
                let rows = min(rowsPerBlock, outputShape.height - row)
                // workspace: [k × rows·ow]
                let taps = size * size
                let blockColumns = rows * ow
                let inSpatial = input.spatial
                Parallel.forEach(cg, cost: taps * blockColumns) { channels in
                    Im2col.unfold(
                        input: plane + channels.lowerBound * inSpatial, channels: channels.count,
                        height: input.height, width: input.width, kernel: size, stride: stride, pad: pad, outWidth: ow,
                        rowStart: row, rowCount: rows, columns: workspace + channels.lowerBound * taps * blockColumns)
                }
                product(a, workspace, rows * ow, rows * ow, out + row * ow, g)
                row += rows
            }
        }
        return small
    }
}

/// Ungrouped convolutions that run neither as Winograd, direct nor depthwise (1×1, strided 3×3,
/// …): im2col straight into `PanelGemm`'s B panels, multiplied with the weights packed into A
/// panels at load (`PanelGemm.packA`), then bias and activation on the fresh output. A part of
/// the output pixels at a time: each part is unfolded, multiplied and activated by one thread in
/// its own slot of the workspace, so nothing is packed per product, nothing crosses cores
/// between phases and a layer has one barrier.
package enum PanelConvolution {
    /// Floats of B a part aims for: its panels stay in L2 while every A panel sweeps them.
    package static let partFloats = 1 << 16

    /// Parts in flight at once, each with its own B (at most 64K–110K floats): threads beyond
    /// it wait out these layers.
    package static let slots = 8

    /// B panels per part for a reduction of `k`.
    package static func panelsPerPart(k: Int, pixels: Int) -> Int {
        let panels = (pixels + PanelGemm.columns - 1) / PanelGemm.columns
        return max(1, min(panels, partFloats / (PanelGemm.columns * max(1, k))))
    }

    /// Floats of workspace `run` needs.
    package static func workspaceSize(channels: Int, kernel: Int, outHeight: Int, outWidth: Int) -> Int {
        let k = channels * kernel * kernel
        return slots * panelsPerPart(k: k, pixels: outHeight * outWidth) * PanelGemm.columns * k
    }

    /// `output[f, y, x] = act(bias[f] + Σ_c Σ_ky Σ_kx w[f, c, ky, kx] · input[c, y·stride − pad + ky, x·stride − pad + kx])`
    /// for `input [channels × height × width]`, `packed` = `PanelGemm.packA` of the weights
    /// `[filters × (channels·kernel·kernel)]`, `output [filters × outHeight × outWidth]`, and
    /// `workspace` of `workspaceSize(...)` floats. With `residual` (`[filters × outHeight ×
    /// outWidth]`), its value is added after the activation (a `[shortcut]` folded in by
    /// `ResidualFusion`).
    package static func run(
        input: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
        packed: UnsafePointer<Float>, bias: UnsafePointer<Float>, filters: Int,
        kernel: Int, stride: Int, pad: Int, activation: Activation,
        output: UnsafeMutablePointer<Float>, outHeight: Int, outWidth: Int,
        residual: UnsafePointer<Float>? = nil,
        workspace: UnsafeMutablePointer<Float>, isa: KernelISA = .current
    ) {
        let k = channels * kernel * kernel
        let pixels = outHeight * outWidth
        guard k > 0, pixels > 0, filters > 0 else { return }
        let perPart = panelsPerPart(k: k, pixels: pixels) * PanelGemm.columns
        let parts = (pixels + perPart - 1) / perPart
        // 1×1: the input is B; from `inPlaceMinK` channels its whole 24-column strips are read in
        // place, only a part's last partial strip is unfolded.
        let inPlace =
            kernel == 1 && stride == 1 && pad == 0 && k >= PanelGemm.inPlaceMinK
            && PanelGemm.multipliesInPlace(isa: isa)
        Parallel.forEachSlot(parts, slots: slots) { part, slot in
            let first = part * perPart
            let count = min(perPart, pixels - first)
            let b = workspace + slot * perPart * k
            let direct = inPlace ? count / PanelGemm.columns * PanelGemm.columns : 0
            if direct > 0 {
                PanelGemm.multiplyInPlace(
                    m: filters, n: direct, k: k, a: packed, b: input + first, ldb: pixels, c: output + first,
                    ldc: pixels)
            }
            if direct < count {
                Im2col.unfoldPanels(
                    input: input, channels: channels, height: height, width: width, kernel: kernel, stride: stride,
                    pad: pad, outWidth: outWidth, first: first + direct, count: count - direct, panels: b)
                PanelGemm.multiply(
                    m: filters, n: count - direct, k: k, a: packed, b: b, c: output + first + direct, ldc: pixels,
                    isa: isa)
            }
            for f in 0..<filters {
                let row = output + f * pixels + first
                BiasActivation.apply(
                    row, channels: 1, spatial: count, bias: bias + f, activation: activation, isa: isa)
                if let residual { Elementwise.add(row, residual + f * pixels + first, into: row, count: count) }
            }
        }
    }
}

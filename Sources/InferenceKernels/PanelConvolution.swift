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

    /// Parts per thread with several threads, for layers with the work for them (see
    /// `minPartWork`), handed out dynamically. Measured on yolov8n's 1×1 shapes (two threads,
    /// kernel alone, alternated per call): one or two a thread alike on the big layers, four
    /// and eight 2–12 % slower on the small ones.
    package static let partsPerThread = 2

    /// Least multiply-adds worth a part of its own with several threads (~8 µs on one core):
    /// a part costs a claim, and its columns of the output end up in another core's cache.
    package static let minPartWork = 1 << 21

    /// How `run` cuts `pixels` output columns of `filters` rows: `parts` parts of whole
    /// `unit`-panel groups (the last group may be partial), part `i` taking groups
    /// `units·i/parts ..< units·(i+1)/parts`, so part sizes differ by at most one group (the
    /// old fixed `panelsPerPart` parts left yolov8n's 384→256 @20×20 in 7, 7 and 3 panels: one
    /// thread did 10 while the other waited). No part has more than `max(panelsPerPart, unit)`
    /// panels. With several `threads`, a layer of `n` times `minPartWork` multiply-adds has
    /// `min(n, threads · partsPerThread)` parts or more, rounded up to a multiple of `threads`
    /// (at most one part per group). `unit` is 2 with `pairs` (AVX-512's 48-column blocks), else 1.
    package static func partition(k: Int, pixels: Int, filters: Int, threads: Int, pairs: Bool) -> (
        parts: Int, unit: Int, units: Int
    ) {
        let panels = (pixels + PanelGemm.columns - 1) / PanelGemm.columns
        let unit = pairs && panels > 1 ? 2 : 1
        let units = (panels + unit - 1) / unit
        let maxUnits = max(1, panelsPerPart(k: k, pixels: pixels) / unit)
        var parts = (units + maxUnits - 1) / maxUnits
        let worth = min(threads * partsPerThread, filters * k * pixels / minPartWork)
        if threads > 1, worth > 1 {
            parts = max(parts, worth)
            parts = (parts + threads - 1) / threads * threads
        }
        return (min(parts, units), unit, units)
    }

    /// Panels of B a workspace slot holds: `panelsPerPart`, or a pair where it is one (a part
    /// is at least a pair of panels on AVX-512).
    static func slotPanels(k: Int, pixels: Int) -> Int {
        let panels = (pixels + PanelGemm.columns - 1) / PanelGemm.columns
        return min(panels, max(2, panelsPerPart(k: k, pixels: pixels)))
    }

    /// Floats of workspace `run` needs.
    package static func workspaceSize(channels: Int, kernel: Int, outHeight: Int, outWidth: Int) -> Int {
        let k = channels * kernel * kernel
        return slots * slotPanels(k: k, pixels: outHeight * outWidth) * PanelGemm.columns * k
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
        // 1×1: the input is B; from `inPlaceMinK` channels its whole 24-column strips are read in
        // place, only a part's last partial strip is unfolded.
        let inPlace =
            kernel == 1 && stride == 1 && pad == 0 && k >= PanelGemm.inPlaceMinK
            && PanelGemm.multipliesInPlace(isa: isa)
        // AVX-512 multiplies 48 columns at a time (pairs of panels), adding in another order than
        // a lone 24-column panel: parts of whole pairs keep every column's sum the same
        // whichever thread count cuts the layer.
        let (parts, unit, units) = partition(
            k: k, pixels: pixels, filters: filters, threads: Parallel.threads,
            pairs: PanelGemm.multipliesInPlace(isa: isa))
        // A slot's B holds the most a part unfolds (in place, less than one panel).
        let slotFloats = slotPanels(k: k, pixels: pixels) * PanelGemm.columns * k
        let groupColumns = unit * PanelGemm.columns
        Parallel.forEachSlot(parts, slots: slots) { part, slot in
            let first = units * part / parts * groupColumns
            let count = min(pixels, units * (part + 1) / parts * groupColumns) - first
            let b = workspace + slot * slotFloats
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

import InferenceKernels

/// Which kernel runs a convolutional layer, and what each choice needs (workspace, weight layout).
extension ConvolutionalLayer {
    /// The kernel for a layer of this shape and activation, first match wins: `StridedConvolution`
    /// (3×3 stride 2, see its `applies`), `DirectConvolution` (3×3 with few channels), Winograd
    /// (3×3 stride 1 ungrouped, see `winogradTile`), then `PanelConvolution` for ungrouped layers
    /// not skinny enough for `SmallGemm`; anything else is im2col + GEMM (or the depthwise kernel).
    static func chooseKernel(
        channels: Int, filters: Int, groups: Int, size: Int, stride: Int, inputFloats: Int, outHeight oh: Int,
        outWidth ow: Int, activation act: Activation
    ) -> (strided: Bool, direct: Bool, winograd: WinogradConvolution.Tile?, panel: Bool) {
        let k = (channels / groups) * size * size
        let strided = StridedConvolution.applies(
            channels: channels, filters: filters, groups: groups, kernel: size, stride: stride,
            inputFloats: inputFloats, activation: act)
        let direct =
            !strided
            && DirectConvolution.applies(
                channels: channels, groups: groups, kernel: size, stride: stride, inputFloats: inputFloats)
        let winograd =
            !direct && !strided && size == 3 && stride == 1 && groups == 1
            ? winogradTile(channels: channels, filters: filters, outHeight: oh, outWidth: ow) : nil
        let panel =
            !direct && !strided && winograd == nil && groups == 1
            && (!prefersSmallGemm(m: filters, k: k) || activatesInPanels(act, filters: filters))
            && filters * k <= panelWeightFloats
        return (strided, direct, winograd, panel)
    }

    /// The kernel that runs this layer, as profiles name it: `winograd`, `panel`, `strided`,
    /// `direct`, `depthwise` or `gemm` (im2col + GEMM).
    package var kernelName: String {
        winograd != nil
            ? "winograd"
            : panel ? "panel" : strided ? "strided" : direct ? "direct" : isDepthwise ? "depthwise" : "gemm"
    }

    /// Which 3×3 stride-1 ungrouped convolutions run as Winograd, and with which tile. Measured
    /// per layer on yolov3 @416 (1 thread, CPU time, against im2col + OpenBLAS): 3→32 @416 is
    /// 3× slower (the transforms dominate with few channels); with F(4×4) 32→64 @208 is 1.14×
    /// faster, 64→128 @104 1.56×, 128→256 @52 1.89×, 256→512 @26 2.0×, 512→1024 @13 only
    /// 1.16× where F(2×2) gives 1.31× (a 13-wide map wastes less of F(2×2)'s last tile, and its
    /// per-call filter transform makes 16/9 of the weights instead of 36/9).
    package static func winogradTile(channels: Int, filters: Int, outHeight: Int, outWidth: Int) -> WinogradConvolution
        .Tile?
    {
        guard channels >= 16, filters >= 16 else { return nil }
        return min(outHeight, outWidth) >= 20 ? .f4 : .f2
    }

    /// Largest weights (floats) a `PanelConvolution` layer may have: every part streams all of
    /// them, so bigger ones (yolov3's 512→1024 3×3 stride 2, 19 MB) stay on OpenBLAS, which
    /// blocks the reduction (measured 19.6 ms there against 23.1 as panels, 1 thread).
    package static let panelWeightFloats = 1 << 21

    /// Whether a product of `m` output channels over a `k`-long reduction goes to `SmallGemm`
    /// (measured: it beats OpenBLAS on these skinny shapes, which dominate Yolo-Fastest).
    package static func prefersSmallGemm(m: Int, k: Int) -> Bool {
        k <= 64 || m <= 32
    }

    /// Whether a skinny product that would go to `SmallGemm` goes to panels instead because of its
    /// activation: `SmallGemm` applies only piecewise-linear ones in registers and leaves swish,
    /// mish and logistic to a pass over the whole output (out of cache on big maps), where
    /// `PanelConvolution` applies them to each part while it is in cache. Measured on yolov8n
    /// @640 (ONNX, swish everywhere): its 16→32 3×3 stride-2 layer at 320×320 and its 1×1 layers
    /// of 32–64 channels at 160×160 and 80×80 (BENCHMARKS.md, session 8).
    package static func activatesInPanels(_ activation: Activation, filters: Int) -> Bool {
        !activation.isPiecewiseLinear && filters >= 8
    }

    package var workspaceSize: Int {
        if panel {
            return PanelConvolution.workspaceSize(
                channels: input.channels, kernel: size, outHeight: outputShape.height, outWidth: outputShape.width)
        }
        if isDepthwise {
            return DepthwiseConvolution.workspaceSize(
                kernel: size, stride: stride, outHeight: outputShape.height, outWidth: outputShape.width)
        }
        if isPointwise { return 0 }
        if strided {
            return StridedConvolution.workspaceSize(
                channels: input.channels, outHeight: outputShape.height, outWidth: outputShape.width)
        }
        if direct {
            return DirectConvolution.workspaceSize(
                channels: input.channels, filters: filters, stride: stride, outHeight: outputShape.height,
                outWidth: outputShape.width)
        }
        if let tile = winograd {
            return WinogradConvolution.workspaceSize(
                tile: tile, channels: input.channels, filters: filters, outHeight: outputShape.height,
                outWidth: outputShape.width)
        }
        return (input.channels / groups) * size * size * rowsPerBlock * outputShape.width
    }

    /// How `weights` are laid out for the kernel that runs this layer (`winograd-f4`,
    /// `winograd-f2`, `panel`, `strided8` or `plain`): a compiled artifact records it per layer and is used
    /// only when this build picks the same kernel.
    package var weightLayout: String {
        if let tile = winograd { return tile == .f4 ? "winograd-f4" : "winograd-f2" }
        return panel ? "panel" : strided ? "strided8" : "plain"
    }

    /// Floats of `weights` once loaded (packing pads Winograd groups to 8 filters and panels to 4 rows).
    package var executionWeightCount: Int {
        let perFilter = (input.channels / groups) * size * size
        if winograd != nil { return (filters + 7) / 8 * 72 * input.channels }
        if panel { return (filters + 3) / 4 * 4 * perFilter }
        if strided { return StridedConvolution.packedCount(filters: filters, channels: input.channels) }
        return filters * perFilter
    }
}

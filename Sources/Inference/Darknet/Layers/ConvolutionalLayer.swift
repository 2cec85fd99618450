import InferenceKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `[convolutional]`: a 2-D convolution (grouped or depthwise) with optional batch-norm, which
/// is folded into the weights and bias at load (eps 1e-5, as Darknet's `fuse_conv_batchnorm`),
/// then a fused bias + activation.
package struct ConvolutionalLayer: DarknetLayer {
    /// Largest im2col block, in floats; big convolutions are unfolded a few output rows at a time.
    package static let columnBlockFloats = 1 << 20

    package var type: String { "convolutional" }
    package let input: FeatureShape
    package let outputShape: FeatureShape
    package private(set) var inputs: [Int]
    /// The layer whose output is added to this one's after the activation (a `[shortcut]`
    /// folded in by `ResidualFusion`), or nil; then it is also `inputs[1]`.
    package private(set) var residual: Int?
    package let filters: Int
    package let size: Int
    package let stride: Int
    package let pad: Int
    package let groups: Int
    package let batchNormalize: Bool
    package let activation: Activation
    /// Output rows unfolded per im2col block.
    package let rowsPerBlock: Int
    /// `[filters × (channels / groups) × size × size]`, batch-norm folded in; for a Winograd
    /// layer regrouped by `WinogradConvolution.packWeights`, for a panel layer by
    /// `PanelGemm.packA` (`unpackedWeights` reads them back in Darknet's order). Empty until loaded;
    /// owned when parsed from a `.weights` file, a view into the mapping when loaded from a
    /// compiled artifact (`DarknetArtifact`).
    package private(set) var weights = WeightStorage()
    /// Winograd tile size for this layer, or nil for im2col + GEMM (see `winogradTile(...)`). The
    /// filters are transformed per call, a block at a time, into the workspace: nothing but the
    /// folded (and regrouped) `weights` is kept with the model.
    package let winograd: WinogradConvolution.Tile?
    /// True when the layer runs as `DirectConvolution` (3×3: at most 4 input channels, or at
    /// stride 2 fewer than `StridedConvolution.minChannels` and a small enough input).
    package let direct: Bool
    /// True when the layer runs as `StridedConvolution` (3×3 stride 2, see `applies`); its
    /// weights are then kept packed by `StridedConvolution.packWeights`.
    package let strided: Bool
    /// True when the layer runs as `PanelConvolution` (ungrouped, not Winograd, direct or
    /// depthwise, and not skinny enough for `SmallGemm`); its weights are then kept as A panels.
    package let panel: Bool
    /// `[filters]`, batch-norm folded in. Empty until loaded.
    package private(set) var bias: [Float] = []

    /// One filter per channel: run by the direct depthwise kernel.
    package var isDepthwise: Bool { groups == input.channels && groups == filters && groups > 1 }
    /// 1×1, stride 1, no padding: the input already is the GEMM's right-hand matrix.
    package var isPointwise: Bool { size == 1 && stride == 1 && pad == 0 }

    package init(section: inout CfgSection, context: LayerContext) throws {
        input = context.inputShape
        inputs = [context.index - 1]
        filters = try section.int("filters", default: 1)
        size = try section.int("size", default: 1)
        stride = try section.int("stride", default: 1)
        let padFlag = try section.int("pad", default: 0)
        let padding = try section.int("padding", default: 0)
        pad = padFlag != 0 ? size / 2 : padding
        groups = try section.int("groups", default: 1)
        batchNormalize = try section.int("batch_normalize", default: 0) != 0
        let name = try section.string("activation", default: "logistic")
        guard let act = Activation(rawValue: name) else {
            throw section.error(
                "activation '\(name)' is not supported (supported: \(Activation.allCases.map(\.rawValue).joined(separator: ", ")))"
            )
        }
        activation = act
        for key in ["stride_x", "stride_y"] where section.has(key) {
            guard try section.int(key) == stride else {
                throw section.error("\(key) different from stride is not supported")
            }
        }
        for key in ["dilation"] where section.has(key) {
            guard try section.int(key) == 1 else { throw section.error("\(key) other than 1 is not supported") }
        }
        for key in ["binary", "xnor", "antialiasing", "deform", "sway", "rotate", "stretch", "stretch_sway"]
        where section.has(key) {
            guard try section.int(key) == 0 else { throw section.error("\(key)=1 is not supported") }
        }
        guard filters > 0, size > 0, stride > 0, pad >= 0, groups > 0 else {
            throw section.error("filters, size, stride and groups must be positive and pad non-negative")
        }
        guard filters <= 1 << 20, size <= 1 << 10, stride <= 1 << 10, pad <= 1 << 10 else {
            throw section.error("filters, size, stride or pad is implausibly large")
        }
        guard input.channels % groups == 0, filters % groups == 0 else {
            throw section.error(
                "groups=\(groups) must divide both the input channels (\(input.channels)) and filters (\(filters))")
        }
        let oh = (input.height + 2 * pad - size) / stride + 1
        let ow = (input.width + 2 * pad - size) / stride + 1
        guard input.height + 2 * pad >= size, input.width + 2 * pad >= size else {
            throw section.error("a \(size)x\(size) kernel does not fit the \(input) input")
        }
        outputShape = FeatureShape(channels: filters, height: oh, width: ow)
        let k = (input.channels / groups) * size * size
        let budget =
            Self.prefersSmallGemm(m: filters / groups, k: k) ? Self.columnBlockFloats / 16 : Self.columnBlockFloats
        rowsPerBlock = max(1, min(oh, budget / max(1, k * ow)))
        strided = StridedConvolution.applies(
            channels: input.channels, filters: filters, groups: groups, kernel: size, stride: stride,
            inputFloats: input.count, activation: act)
        direct =
            !strided
            && DirectConvolution.applies(
                channels: input.channels, groups: groups, kernel: size, stride: stride, inputFloats: input.count)
        winograd =
            !direct && !strided && size == 3 && stride == 1 && groups == 1
            ? Self.winogradTile(channels: input.channels, filters: filters, outHeight: oh, outWidth: ow) : nil
        panel =
            !direct && !strided && winograd == nil && groups == 1
            && (!Self.prefersSmallGemm(m: filters, k: k) || Self.activatesInPanels(act, filters: filters))
            && filters * k <= Self.panelWeightFloats
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

    package var weightCount: Int {
        filters * (batchNormalize ? 4 : 1) + filters * (input.channels / groups) * size * size
    }

    package var flops: Int { 2 * filters * (input.channels / groups) * size * size * outputShape.spatial }

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

    package func loadingWeights(_ floats: [Float]) throws -> any DarknetLayer {
        guard floats.count == weightCount else {
            throw InferenceError(
                .invalidWeights, "convolutional layer expects \(weightCount) floats, got \(floats.count)")
        }
        var copy = self
        let n = filters
        let perFilter = (input.channels / groups) * size * size
        var bias = Array(floats[0..<n])
        let offset = batchNormalize ? 4 * n : n
        var weights = Array(floats[offset..<(offset + n * perFilter)])
        if batchNormalize {
            for f in 0..<n {
                // floats: biases[n], scales[n], rolling_mean[n], rolling_variance[n], weights.
                let scale = Double(floats[n + f])
                let root = sqrt(Double(floats[3 * n + f]) + 0.00001)
                bias[f] = Float(Double(bias[f]) - scale * Double(floats[2 * n + f]) / root)
                let factor = scale / root
                for i in (f * perFilter)..<((f + 1) * perFilter) {
                    weights[i] = Float(Double(weights[i]) * factor)
                }
            }
        }
        copy.weights = WeightStorage(
            weights.withUnsafeBufferPointer {
                if winograd != nil {
                    return WinogradConvolution.packWeights($0.baseAddress!, filters: filters, channels: input.channels)
                }
                if strided {
                    return StridedConvolution.packWeights($0.baseAddress!, filters: filters, channels: input.channels)
                }
                return panel ? PanelGemm.packA($0.baseAddress!, m: filters, k: perFilter) : weights
            })
        copy.bias = bias
        return copy
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

    /// A copy with weights already in execution layout (batch-norm folded and packed, as
    /// `loadingWeights` leaves them), e.g. a view into a mapped compiled artifact.
    package func loadingCompiled(weights: WeightStorage, bias: [Float]) throws -> ConvolutionalLayer {
        guard weights.count == executionWeightCount, bias.count == filters else {
            throw InferenceError(
                .invalidModel,
                "convolutional layer expects \(executionWeightCount) packed weights and \(filters) biases, got \(weights.count) and \(bias.count)"
            )
        }
        var copy = self
        copy.weights = weights
        copy.bias = bias
        return copy
    }

    /// The folded weights in Darknet's order `[filters × (channels / groups) × size × size]`.
    package var unpackedWeights: [Float] {
        guard winograd != nil || panel || strided, !weights.isEmpty else { return weights.array }
        return weights.withUnsafeBufferPointer {
            if winograd != nil {
                return WinogradConvolution.unpackWeights($0.baseAddress!, filters: filters, channels: input.channels)
            }
            if strided {
                return StridedConvolution.unpackWeights($0.baseAddress!, filters: filters, channels: input.channels)
            }
            return PanelGemm.unpackA($0.baseAddress!, m: filters, k: (input.channels / groups) * size * size)
        }
    }

    package func forward(_ io: LayerIO) {
        let src = UnsafePointer(io.buffer(inputs[0]))
        let dst = io.output
        let residual = self.residual.map { UnsafePointer(io.buffer($0)) }
        let oh = outputShape.height
        let ow = outputShape.width
        weights.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in
                guard let wp = w.baseAddress, let bp = b.baseAddress else { return }
                // The bias (when given) and the activation as a pass over the output.
                func activate(bias: UnsafePointer<Float>?) {
                    Parallel.forEach(filters, cost: oh * ow) { range in
                        BiasActivation.apply(
                            dst + range.lowerBound * oh * ow, channels: range.count, spatial: oh * ow,
                            bias: bias.map { $0 + range.lowerBound }, activation: activation)
                    }
                }
                if let tile = winograd {
                    WinogradConvolution.run(
                        tile: tile, input: src, channels: input.channels, height: input.height, width: input.width,
                        pad: pad, weights: wp, bias: bp, filters: filters, activation: activation,
                        output: dst, outHeight: oh, outWidth: ow, residual: residual, workspace: io.workspace)
                    return
                }
                if panel {
                    PanelConvolution.run(
                        input: src, channels: input.channels, height: input.height, width: input.width,
                        packed: wp, bias: bp, filters: filters, kernel: size, stride: stride, pad: pad,
                        activation: activation, output: dst, outHeight: oh, outWidth: ow, residual: residual,
                        workspace: io.workspace)
                    return
                }
                if strided {
                    StridedConvolution.run(
                        input: src, channels: input.channels, height: input.height, width: input.width,
                        packed: wp, bias: bp, filters: filters, pad: pad, activation: activation, output: dst,
                        outHeight: oh, outWidth: ow, workspace: io.workspace)
                    return
                }
                if direct {
                    DirectConvolution.run(
                        input: src, channels: input.channels, height: input.height, width: input.width,
                        weights: wp, bias: bp, filters: filters, stride: stride, pad: pad, activation: activation,
                        output: dst, outHeight: oh, outWidth: ow, workspace: io.workspace)
                    return
                }
                if isDepthwise {
                    DepthwiseConvolution.run(
                        input: src, channels: input.channels, height: input.height, width: input.width,
                        weights: wp, bias: bp, kernel: size, stride: stride, pad: pad,
                        output: dst, outHeight: oh, outWidth: ow, workspace: io.workspace)
                    if activation != .linear { activate(bias: nil) }
                    return
                }
                let fused = convolveGrouped(src, wp, bp, dst, io.workspace)
                if !fused {
                    activate(bias: bp)
                } else if !activation.isPiecewiseLinear {
                    activate(bias: nil)
                }
            }
        }
    }

    /// Largest weights (floats) a `PanelConvolution` layer may have: every part streams all of
    /// them, so bigger ones (yolov3's 512→1024 3×3 stride 2, 19 MB) stay on OpenBLAS, which
    /// blocks the reduction (measured 19.6 ms there against 23.1 as panels, 1 thread).
    package static let panelWeightFloats = 1 << 21

    /// Whether `ResidualFusion` may fold a following `[shortcut]` into this layer: its kernels
    /// (Winograd, panels) add a residual as they store.
    package var addsResidual: Bool { (winograd != nil || panel) && residual == nil }

    /// Whether this layer, with a residual folded in, may write its output over that residual
    /// (`MemoryPlan` then gives both one buffer): Winograd's output transform reads each residual
    /// float just before it stores the output float at the same index. Panels may not: their
    /// products land in the output before the residual is added.
    package var writesOverResidual: Bool { winograd != nil }

    /// A copy that adds layer `layer`'s output (of the output's shape) after the activation.
    package func addingResidual(_ layer: Int) -> ConvolutionalLayer {
        var copy = self
        copy.residual = layer
        copy.inputs = [inputs[0], layer]
        return copy
    }

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

    /// im2col + GEMM per group, a block of output rows at a time (1×1 stride-1 convolutions skip
    /// im2col). Returns true when bias and activation were applied in the GEMM (`SmallGemm`).
    private func convolveGrouped(
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

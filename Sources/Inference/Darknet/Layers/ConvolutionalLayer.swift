import InferenceKernels

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
    package internal(set) var weights = WeightStorage()
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
    package internal(set) var bias: [Float] = []

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
        (strided, direct, winograd, panel) = Self.chooseKernel(
            channels: input.channels, filters: filters, groups: groups, size: size, stride: stride,
            inputFloats: input.count, outHeight: oh, outWidth: ow, activation: act)
    }

    package var weightCount: Int {
        filters * (batchNormalize ? 4 : 1) + filters * (input.channels / groups) * size * size
    }

    package var flops: Int { 2 * filters * (input.channels / groups) * size * size * outputShape.spatial }

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

}

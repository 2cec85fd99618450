import InferenceAVX512Kernels

/// Direct 3×3 convolution for layers with few input channels, a network's first layer: 3→8 at
/// stride 2 in Yolo-Fastest, 3→32 in yolov3. There im2col + GEMM writes and rereads a 27-row
/// matrix the size of nine outputs per filter and multiplies it by a matrix of 8–32 rows,
/// which neither OpenBLAS nor `SmallGemm` runs fast (Yolo-Fastest's 3→8 layer: 18 GF/s).
///
/// The input is zero-padded once (split into even and odd columns at stride 2, see
/// `PaddedPlane`), and the filters are regrouped eight at a time, tap-major
/// (`[group][channel][ky][kx][8]`). Each step then loads eight adjacent input pixels of one tap
/// and multiplies them by that tap's eight filter weights, into eight accumulators: 8 outputs × 8
/// filters per block, the bias and a linear, leaky or relu activation applied before the store.
///
/// At stride 2 it also runs layers with more channels (yolov8n's 16→32 downsampling layer):
/// im2col would write 9/4 of the input as columns and the GEMM read them back, where this kernel
/// copies the input once into its split planes and reads each tap from L1. `ConvolutionalLayer`
/// sends stride-2 layers of `StridedConvolution.minChannels` (33) channels and more to
/// `StridedConvolution`, whose bigger register block wins there.
package enum DirectConvolution {
    /// Most input channels `run` takes at stride 2 with more than 4 (see `applies`). Measured per
    /// layer on yolov8n @640 (1 thread, AVX-512, against im2col + panels, loaded box): 16→32
    /// @320 2.04 vs 2.60 ms, 32→64 @160 1.61 vs 1.87; from 64 channels panels win (64→128 @80
    /// 1.70 vs 1.65, 64→64 @80 1.41 vs 0.99, 128→256 @40 2.24 vs 1.55).
    package static let maxStridedChannels = 32
    /// Largest input (floats) `run` takes at stride 2 with more than 4 channels: its workspace
    /// holds a padded copy of the whole input, which for yolov3's 32→64 @416 (5.5 M floats)
    /// would grow the network's arena by half (yolov8n's largest, 16 @320, is 1.6 M).
    package static let maxStridedInputFloats = 1 << 21

    /// Whether `run` handles a layer of this shape: 3×3 ungrouped with at most 4 channels at
    /// stride 1 or 2, or at stride 2 with at most `maxStridedChannels` channels and
    /// `maxStridedInputFloats` input floats (`inputFloats`: channels × height × width).
    package static func applies(channels: Int, groups: Int, kernel: Int, stride: Int, inputFloats: Int) -> Bool {
        guard groups == 1, kernel == 3 else { return false }
        return channels <= 4 && (stride == 1 || stride == 2)
            || stride == 2 && channels <= maxStridedChannels && inputFloats <= maxStridedInputFloats
    }

    /// Most input channels for which AVX-512 at stride 2 reads the input in place
    /// (`DirectRowInPlace512`) instead of copying it into split planes first. Its de-interleaving
    /// shuffles cost more than the copy saves as channels (and filters) grow. Kernel alone, 1
    /// thread, CPU time, two alternated runs: 3→16 @640 0.98–1.01 against 1.18–1.39 ms, 3→8 @320
    /// 0.135 / 0.176, 16→32 @320 1.45–1.50 / 1.54–1.66 (@160 0.42–0.44 / 0.39–0.40), but 32→64
    /// @160 1.44–1.54 / 1.28–1.33 and @224 2.82 / 2.75.
    package static let inPlaceMaxChannels = 16

    /// Filters per register block.
    private static let lanes = 8

    /// Floats of workspace `run` needs: the padded input planes, then the regrouped weights.
    package static func workspaceSize(channels: Int, filters: Int, stride: Int, outHeight: Int, outWidth: Int) -> Int {
        channels * PaddedPlane.size(kernel: 3, stride: stride, outHeight: outHeight, outWidth: outWidth)
            + (filters + lanes - 1) / lanes * channels * 9 * lanes
    }

    /// `output[f, y, x] = act(bias[f] + Σ_c Σ_ky Σ_kx w[f, c, ky, kx] · input[c, y·s − pad + ky, x·s − pad + kx])`
    /// for `input [channels × height × width]`, `weights [filters × channels × 3 × 3]` and
    /// `output [filters × outHeight × outWidth]`. Piecewise-linear activations are applied in
    /// registers; the others (swish, …) over each finished output row while it is in L1. With
    /// `isa` AVX-512, `DirectRow512` computes each row's whole vectors of sixteen pixels (at stride
    /// 2 with at most `inPlaceMaxChannels` channels, `DirectRowInPlace512` the whole row).
    package static func run(
        input: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
        weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, filters: Int, stride: Int, pad: Int,
        activation: Activation, output: UnsafeMutablePointer<Float>, outHeight: Int, outWidth: Int,
        workspace: UnsafeMutablePointer<Float>, isa: KernelISA = .current
    ) {
        guard channels > 0, filters > 0, outHeight > 0, outWidth > 0 else { return }
        let ph = PaddedPlane.height(kernel: 3, stride: stride, outHeight: outHeight)
        let pw = PaddedPlane.width(kernel: 3, stride: stride, outWidth: outWidth)
        let planeFloats = PaddedPlane.size(kernel: 3, stride: stride, outHeight: outHeight, outWidth: outWidth)
        let half = (pw + 1) / 2
        let planes = workspace
        let regrouped = workspace + channels * planeFloats
        let groups = (filters + lanes - 1) / lanes
        // Regroup the weights: filter f = g·8 + l, tap t = (c·3 + ky)·3 + kx → regrouped[(g·taps + t)·8 + l].
        let taps = channels * 9
        Parallel.forEach(groups, cost: taps * lanes) { range in
            for g in range {
                for t in 0..<taps {
                    for l in 0..<lanes {
                        let f = g * lanes + l
                        regrouped[(g * taps + t) * lanes + l] = f < filters ? weights[f * taps + t] : 0
                    }
                }
            }
        }
        let wide = isa == .avx512
        // AVX-512 at stride 2 with few channels reads the input in place (`DirectRowInPlace512`): no planes.
        let inPlace = wide && stride == 2 && channels <= inPlaceMaxChannels && outWidth >= 16
        Parallel.forEach(inPlace ? 0 : channels, cost: planeFloats) { range in
            for c in range {
                let plane = planes + c * planeFloats
                plane.initialize(repeating: 0, count: planeFloats)
                let src = input + c * height * width
                if stride == 2 {
                    PaddedPlane.copySplit(
                        src, height: height, width: width, pad: pad, into: plane, paddedHeight: ph, half: half)
                } else {
                    PaddedPlane.copy(
                        src, height: height, width: width, pad: pad, into: plane, paddedHeight: ph, paddedWidth: pw)
                }
            }
        }
        let mode = activation == .leaky ? 1 : activation == .relu ? 2 : 0
        // Parts: (output row, filter group) pairs, groups innermost: a part's input rows serve
        // every filter group while in L1, and a thread writes whole bands of rows, which the
        // next layer (cut by pixels) mostly reads on the same core. Against rows innermost
        // (yolov8n, `--steps`, alternated): 1 thread 3.28 against 3.47 ms for the three direct
        // layers; 2 threads with the vCPUs placed apart 2.30 against 3.07 (BENCHMARKS.md, 11).
        Parallel.forEach(groups * outHeight, cost: outWidth * taps * lanes) { range in
            let staging = UnsafeMutablePointer<Float>.allocate(
                capacity: inPlace ? DirectRowInPlace512.stagingSize(channels: channels) : 0)
            defer { staging.deallocate() }
            for item in range {
                let y = item / groups
                let g = item % groups
                let count = min(lanes, filters - g * lanes)
                if inPlace {
                    let out = output + g * lanes * outHeight * outWidth
                    DirectRowInPlace512.row(
                        y: y, count: count, input: input, height: height, width: width, pad: pad, channels: channels,
                        weights: regrouped + g * taps * lanes, bias: bias + g * lanes, mode: mode, output: out,
                        outHeight: outHeight, outWidth: outWidth, staging: staging)
                    if !activation.isPiecewiseLinear {
                        for l in 0..<count {
                            BiasActivation.apply(
                                out + l * outHeight * outWidth + y * outWidth, count: outWidth, activation: activation)
                        }
                    }
                    continue
                }
                let from =
                    wide
                    ? DirectRow512.row(
                        stride: stride, y: y, count: count, planes: planes, planeFloats: planeFloats,
                        rowFloats: stride == 2 ? half : pw, paddedHeight: ph, channels: channels,
                        weights: regrouped + g * taps * lanes, bias: bias + g * lanes, mode: mode,
                        output: output + g * lanes * outHeight * outWidth, outHeight: outHeight, outWidth: outWidth)
                    : 0
                if stride == 2 {
                    row(
                        2, from, y, count, planes, planeFloats, half, ph, channels, regrouped + g * taps * lanes,
                        bias + g * lanes, activation, output + g * lanes * outHeight * outWidth, outHeight, outWidth)
                } else {
                    row(
                        1, from, y, count, planes, planeFloats, pw, ph, channels, regrouped + g * taps * lanes,
                        bias + g * lanes, activation, output + g * lanes * outHeight * outWidth, outHeight, outWidth)
                }
            }
        }
    }

    /// Output row `y` of the `count` (≤ 8) filters of one group, from pixel `from` (those before
    /// are stored, not yet activated if the activation is not piecewise linear). `rowFloats`:
    /// floats per padded row (the padded width, or the width of one split plane at stride 2).
    @inline(__always)
    private static func row(
        _ s: Int, _ from: Int, _ y: Int, _ count: Int,
        _ planes: UnsafeMutablePointer<Float>, _ planeFloats: Int, _ rowFloats: Int, _ ph: Int, _ channels: Int,
        _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>, _ act: Activation,
        _ out: UnsafeMutablePointer<Float>, _ oh: Int, _ ow: Int
    ) {
        @inline(__always) func start(_ l: Int) -> SIMD8<Float> { SIMD8(repeating: l < count ? bias[l] : 0) }
        let b0 = start(0)
        let b1 = start(1)
        let b2 = start(2)
        let b3 = start(3)
        let b4 = start(4)
        let b5 = start(5)
        let b6 = start(6)
        let b7 = start(7)
        var x = from
        while x < ow {
            var a0 = b0
            var a1 = b1
            var a2 = b2
            var a3 = b3
            var a4 = b4
            var a5 = b5
            var a6 = b6
            var a7 = b7
            var wp = w
            for c in 0..<channels {
                let plane = planes + c * planeFloats
                for ky in 0..<3 {
                    let r = plane + (y * s + ky) * rowFloats + x
                    for kx in 0..<3 {
                        // Stride 2: padded column 2x + kx is even[x + kx/2] or odd[x] (kx = 1).
                        let v =
                            s == 1
                            ? SIMD8Memory.load(r + kx) : SIMD8Memory.load(kx == 1 ? r + ph * rowFloats : r + kx / 2)
                        a0 = a0.addingProduct(v, SIMD8(repeating: wp[0]))
                        a1 = a1.addingProduct(v, SIMD8(repeating: wp[1]))
                        a2 = a2.addingProduct(v, SIMD8(repeating: wp[2]))
                        a3 = a3.addingProduct(v, SIMD8(repeating: wp[3]))
                        a4 = a4.addingProduct(v, SIMD8(repeating: wp[4]))
                        a5 = a5.addingProduct(v, SIMD8(repeating: wp[5]))
                        a6 = a6.addingProduct(v, SIMD8(repeating: wp[6]))
                        a7 = a7.addingProduct(v, SIMD8(repeating: wp[7]))
                        wp += lanes
                    }
                }
            }
            let n = min(8, ow - x)
            let o = out + y * ow + x
            let plane = oh * ow
            store(a0, o, n, act)
            if count > 1 { store(a1, o + plane, n, act) }
            if count > 2 { store(a2, o + 2 * plane, n, act) }
            if count > 3 { store(a3, o + 3 * plane, n, act) }
            if count > 4 { store(a4, o + 4 * plane, n, act) }
            if count > 5 { store(a5, o + 5 * plane, n, act) }
            if count > 6 { store(a6, o + 6 * plane, n, act) }
            if count > 7 { store(a7, o + 7 * plane, n, act) }
            x += 8
        }
        if !act.isPiecewiseLinear {
            for l in 0..<count { BiasActivation.apply(out + l * oh * ow + y * ow, count: ow, activation: act) }
        }
    }

    /// Stores the first `n` lanes of `act(v)` at `p`.
    @inline(__always)
    private static func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, _ n: Int, _ act: Activation) {
        let r: SIMD8<Float>
        switch act {
        case .leaky: r = v.replacing(with: v * SIMD8(repeating: 0.1), where: v .<= 0)
        case .relu: r = v.replacing(with: SIMD8(repeating: 0), where: v .<= 0)
        default: r = v  // linear, or applied over the finished row
        }
        SIMD8Memory.store(r, p, count: n)
    }
}

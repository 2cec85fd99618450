import InferenceAVX512Kernels

/// 3×3 stride-2 convolution for any channel count (yolov8n's downsampling layers, 3→16 to
/// 128→256), register-blocked over eight filters and, on AVX-512, 48 output pixels
/// (`StridedBlock512`; AVX2: 8 pixels).
///
/// The input is copied once into four zero-padded phase planes per channel (padded rows and
/// columns split by parity), `(outHeight + 1) × (outWidth + 1)` each, so every tap of a run of
/// adjacent output pixels, across row ends, is a run of adjacent floats (see
/// `StridedBlock512`). The weights are packed once at load (`packWeights`: eight filters at a
/// time, tap-major); the bias and a linear, leaky, relu or swish activation are applied in
/// registers before the store.
package enum StridedConvolution {
    /// Fewest input channels taken: below, `DirectConvolution`'s rows are faster (yolov8n @640,
    /// 1 thread, AVX-512: 3→16 @640 1.61 against 1.92 ms, 16→32 @320 2.13 against 2.32, with
    /// 16-pixel rows; with its 32-pixel rows (session 10), 32→64 @160 1.54–1.70 against 2.24–2.38
    /// here, kernels alone, CPU time, loaded box); from 64 this kernel is (64→128 @80 1.23
    /// against panels' 1.57, 128→256 @40 1.24 against 1.55).
    package static let minChannels = 33
    /// Most input channels taken: yolov3's 256→512 @52 measured no faster than panels (under
    /// load, 19.7–21.7 against 17.7–22.7 ms), its 128→256 @104 level (15.2–17.1 against 14.1–21.8).
    package static let maxChannels = 128
    /// Largest input (floats) taken: the workspace holds a phase-split copy of the whole input
    /// (yolov8n's largest, 16 @320, is 1.6 M; yolov3's 64 @208 stays on panels).
    package static let maxInputFloats = 1 << 21
    /// Largest weights (floats) taken: every block streams one group's, and all groups are
    /// reread per block of pixels (yolov3's 512→1024 stays on OpenBLAS).
    package static let maxWeightFloats = 1 << 21

    /// Whether `run` handles a layer of this shape and activation.
    package static func applies(
        channels: Int, filters: Int, groups: Int, kernel: Int, stride: Int, inputFloats: Int, activation: Activation
    ) -> Bool {
        groups == 1 && kernel == 3 && stride == 2 && channels >= minChannels
            && channels <= maxChannels && inputFloats <= maxInputFloats
            && filters * channels * 9 <= maxWeightFloats
            && (activation.isPiecewiseLinear || activation == .swish)
    }

    /// Filters per register block.
    private static let lanes = 8

    /// Floats of packed weights: filters padded to a multiple of eight.
    package static func packedCount(filters: Int, channels: Int) -> Int {
        (filters + lanes - 1) / lanes * lanes * channels * 9
    }

    /// `[filters × channels × 3 × 3]` → `[group][channel][ky][kx][8]` (filter `8g + l` at lane
    /// `l`, zeros past the last filter).
    package static func packWeights(_ w: UnsafePointer<Float>, filters: Int, channels: Int) -> [Float] {
        let taps = channels * 9
        var packed = [Float](repeating: 0, count: packedCount(filters: filters, channels: channels))
        for f in 0..<filters {
            let g = f / lanes
            let l = f % lanes
            for t in 0..<taps { packed[(g * taps + t) * lanes + l] = w[f * taps + t] }
        }
        return packed
    }

    /// The inverse of `packWeights`.
    package static func unpackWeights(_ p: UnsafePointer<Float>, filters: Int, channels: Int) -> [Float] {
        let taps = channels * 9
        var w = [Float](repeating: 0, count: filters * taps)
        for f in 0..<filters {
            for t in 0..<taps { w[f * taps + t] = p[(f / lanes * taps + t) * lanes + f % lanes] }
        }
        return w
    }

    /// Floats of workspace `run` needs: four phase planes per channel, and room for a block's
    /// loads past the last one. (Splitting a band of rows at a time, to reread the copy from L2,
    /// measured no faster on yolov8n.)
    package static func workspaceSize(channels: Int, outHeight: Int, outWidth: Int) -> Int {
        channels * 4 * (outHeight + 1) * (outWidth + 1) + 64
    }

    /// `output[f, y, x] = act(bias[f] + Σ_c Σ_ky Σ_kx w[f, c, ky, kx] · input[c, 2y − pad + ky, 2x − pad + kx])`
    /// for `input [channels × height × width]`, `packed` from `packWeights`, `output
    /// [filters × outHeight × outWidth]`; `activation` one `applies` accepts.
    package static func run(
        input: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
        packed: UnsafePointer<Float>, bias: UnsafePointer<Float>, filters: Int, pad: Int,
        activation: Activation, output: UnsafeMutablePointer<Float>, outHeight oh: Int, outWidth ow: Int,
        workspace: UnsafeMutablePointer<Float>, isa: KernelISA = .current
    ) {
        guard channels > 0, filters > 0, oh > 0, ow > 0 else { return }
        let half = ow + 1
        let pf = (oh + 1) * half
        let channelFloats = 4 * pf
        (workspace + channels * channelFloats).initialize(repeating: 0, count: 64)
        let wide = isa == .avx512 && KernelISA.detected == .avx512
        let mode =
            switch activation {
            case .leaky: 1
            case .relu: 2
            case .swish: 3
            default: 0
            }
        let pixels = wide ? StridedBlock512.pixels : 8
        let groups = (filters + lanes - 1) / lanes
        let taps = channels * 9
        Parallel.forEach(channels, cost: channelFloats) { range in
            for c in range {
                split(
                    input + c * height * width, height: height, width: width, pad: pad,
                    into: workspace + c * channelFloats, rows: oh + 1, half: half)
            }
        }
        // Tap t = c·9 + ky·3 + kx of pixel p: phase 2·(ky mod 2) + kx mod 2 of channel c, at
        // p + (ky / 2)·half + kx / 2.
        var table = [Int](repeating: 0, count: taps)
        for c in 0..<channels {
            for ky in 0..<3 {
                for kx in 0..<3 {
                    table[c * 9 + ky * 3 + kx] =
                        c * channelFloats + (2 * (ky & 1) + (kx & 1)) * pf + (ky >> 1) * half + (kx >> 1)
                }
            }
        }
        table.withUnsafeBufferPointer { table in
            let offsets = table.baseAddress!
            // Parts: (pixel block, filter group) pairs, groups innermost (a block's input stays in cache).
            let blocks = (oh * half + pixels - 1) / pixels
            Parallel.forEach(blocks * groups, cost: pixels * taps * lanes) { range in
                for item in range {
                    let p0 = item / groups * pixels
                    let g = item % groups
                    let count = min(lanes, filters - g * lanes)
                    let w = packed + g * taps * lanes
                    let out = output + g * lanes * oh * ow
                    if wide {
                        StridedBlock512.block(
                            p0: p0, count: count, taps: taps, offsets: offsets, planes: workspace, half: half,
                            weights: w, bias: bias + g * lanes, mode: mode, output: out, outPlane: oh * ow,
                            outHeight: oh, outWidth: ow)
                    } else {
                        block8(
                            p0, count, taps, offsets, workspace, half, w, bias + g * lanes, activation, out,
                            oh * ow, oh, ow)
                    }
                }
            }
        }
    }

    /// Phase planes of one channel, `rows × half` each: padded row `2r + ry`, column `2j + rx`
    /// goes to phase `2·ry + rx` at `r·half + j` (zero where it is padding).
    private static func split(
        _ src: UnsafePointer<Float>, height: Int, width: Int, pad: Int,
        into dst: UnsafeMutablePointer<Float>, rows: Int, half: Int
    ) {
        let pf = rows * half
        for ry in 0..<2 {
            for r in 0..<rows {
                let even = dst + (2 * ry) * pf + r * half
                let odd = even + pf
                even.initialize(repeating: 0, count: half)
                odd.initialize(repeating: 0, count: half)
                let sy = 2 * r + ry - pad
                guard sy >= 0, sy < height else { continue }
                PaddedPlane.splitRow(src + sy * width, width: width, pad: pad, even: even, odd: odd, half: half)
            }
        }
    }

    /// AVX2 block: pixels `p0 ..< p0 + 8` × `count` filters (see `StridedBlock512.block`), the
    /// same sums in the same order.
    @inline(__always)
    private static func block8(
        _ p0: Int, _ count: Int, _ taps: Int, _ offsets: UnsafePointer<Int>, _ planes: UnsafePointer<Float>,
        _ half: Int, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>, _ act: Activation,
        _ out: UnsafeMutablePointer<Float>, _ outPlane: Int, _ oh: Int, _ ow: Int
    ) {
        @inline(__always) func start(_ l: Int) -> SIMD8<Float> { SIMD8(repeating: l < count ? bias[l] : 0) }
        var a0 = start(0)
        var a1 = start(1)
        var a2 = start(2)
        var a3 = start(3)
        var a4 = start(4)
        var a5 = start(5)
        var a6 = start(6)
        var a7 = start(7)
        let src = planes + p0
        var wp = w
        for t in 0..<taps {
            let v = SIMD8Memory.load(src + offsets[t])
            a0 = a0.addingProduct(v, SIMD8(repeating: wp[0]))
            a1 = a1.addingProduct(v, SIMD8(repeating: wp[1]))
            a2 = a2.addingProduct(v, SIMD8(repeating: wp[2]))
            a3 = a3.addingProduct(v, SIMD8(repeating: wp[3]))
            a4 = a4.addingProduct(v, SIMD8(repeating: wp[4]))
            a5 = a5.addingProduct(v, SIMD8(repeating: wp[5]))
            a6 = a6.addingProduct(v, SIMD8(repeating: wp[6]))
            a7 = a7.addingProduct(v, SIMD8(repeating: wp[7]))
            wp += 8
        }
        let y = p0 / half
        guard y < oh else { return }
        let x = p0 - y * half
        let whole = x + 8 <= ow
        for (l, a) in [a0, a1, a2, a3, a4, a5, a6, a7].prefix(count).enumerated() {
            var v = a
            switch act {
            case .leaky: v = v.replacing(with: v * SIMD8(repeating: 0.1), where: v .<= 0)
            case .relu: v = v.replacing(with: SIMD8(repeating: 0), where: v .<= 0)
            case .swish: v = Activation.swish(v)
            default: break
            }
            let o = out + l * outPlane
            if whole {
                SIMD8Memory.store(v, o + y * ow + x)
                continue
            }
            var i = 0
            var yy = y
            var xx = x
            while i < 8, yy < oh {
                let n = min(8 - i, half - xx)
                for k in 0..<max(0, min(n, ow - xx)) { o[yy * ow + xx + k] = v[i + k] }
                i += n
                yy += 1
                xx = 0
            }
        }
    }
}

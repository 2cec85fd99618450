import Testing

@testable import Inference
@testable import InferenceKernels

/// The sixteen-lane F(4×4) transforms (`WinogradTiles512`) against the eight-lane ones, and the
/// small-map plan (one job for padding, input and filter transforms; one block of filters) on
/// one and two threads: the same operations in the same order, so the same bits, and both
/// within Winograd's error of the naive reference.
@Suite("Winograd on sixteen lanes and two threads")
struct WinogradSplitTests {
    /// Runs F(4×4) on `threads` threads with `isa`, the workspace NaN (a stray read poisons the
    /// output).
    static func run(
        _ t: WinogradCase, isa: KernelISA, threads: Int, input: [Float], packed: [Float], bias: [Float],
        residual: [Float]
    ) -> [Float] {
        let oh = t.h + 2 * t.pad - 2
        let ow = t.w + 2 * t.pad - 2
        let size = WinogradConvolution.workspaceSize(
            tile: .f4, channels: t.c, filters: t.filters, outHeight: oh, outWidth: ow)
        var workspace = [Float](repeating: .nan, count: size)
        var got = [Float](repeating: .nan, count: t.filters * oh * ow)
        ComputePool(threads: threads).run {
            input.withUnsafeBufferPointer { x in
                packed.withUnsafeBufferPointer { w in
                    bias.withUnsafeBufferPointer { b in
                        residual.withUnsafeBufferPointer { r in
                            got.withUnsafeMutableBufferPointer { out in
                                workspace.withUnsafeMutableBufferPointer { ws in
                                    WinogradConvolution.run(
                                        tile: .f4, input: x.baseAddress!, channels: t.c, height: t.h, width: t.w,
                                        pad: t.pad, weights: w.baseAddress!, bias: b.baseAddress!, filters: t.filters,
                                        activation: t.activation, output: out.baseAddress!, outHeight: oh,
                                        outWidth: ow, residual: t.residual ? r.baseAddress! : nil,
                                        workspace: ws.baseAddress!, isa: isa)
                                }
                            }
                        }
                    }
                }
            }
        }
        return got
    }

    /// Maps of 1, 5, 10, 20 and 40 tiles a row (a vector of sixteen tiles spans up to sixteen
    /// tile rows; 8+ tiles a row take the sixteen-lane output transform), odd sizes, channels
    /// and filters that are not multiples of 8 or 16, tiles that are not a multiple of the
    /// 24-tile panel, every activation the output transform applies in registers, swish (run
    /// over finished rows) and residuals; yolov8n's 20×20 shapes (one filter block; 64 or 80
    /// filters) and 128 filters (two blocks).
    static let cases: [WinogradCase] = [
        WinogradCase(c: 3, h: 37, w: 4, filters: 5, pad: 1, activation: .linear),
        WinogradCase(c: 17, h: 20, w: 20, filters: 9, pad: 1, activation: .swish),
        WinogradCase(c: 7, h: 10, w: 41, filters: 9, pad: 1, activation: .relu, residual: true),
        WinogradCase(c: 5, h: 9, w: 79, filters: 3, pad: 1, activation: .leaky),
        WinogradCase(c: 9, h: 23, w: 158, filters: 4, pad: 0, activation: .linear, residual: true),
        WinogradCase(c: 6, h: 42, w: 40, filters: 11, pad: 1, activation: .swish, residual: true),
        WinogradCase(c: 64, h: 20, w: 20, filters: 64, pad: 1, activation: .swish),
        WinogradCase(c: 80, h: 20, w: 20, filters: 80, pad: 1, activation: .swish),
        WinogradCase(c: 37, h: 21, w: 19, filters: 128, pad: 1, activation: .leaky),
    ]

    @Test(arguments: cases)
    func sameBitsOnBothISAsAndThreadCounts(_ t: WinogradCase) {
        let p = WinogradProblem(t, seed: UInt64(t.c * 131 + t.h * 17 + t.w + t.filters), weights: -0.2...0.2)
        let (input, weights, bias, residual, want) = (p.input, p.weights, p.bias, p.residual, p.want)
        let packed = weights.withUnsafeBufferPointer {
            WinogradConvolution.packWeights($0.baseAddress!, filters: t.filters, channels: t.c)
        }
        let serial = Self.run(
            t, isa: .avx2, threads: 1, input: input, packed: packed, bias: bias, residual: residual)
        #expect(maxErrorOverMagnitude(serial, want) < 1e-4)
        for isa in WinogradConvolutionTests.isas {
            for threads in [1, 2] {
                let got = Self.run(
                    t, isa: isa, threads: threads, input: input, packed: packed, bias: bias, residual: residual)
                #expect(
                    got.elementsEqual(serial) { $0.bitPattern == $1.bitPattern }, "\(isa), \(threads) threads")
            }
        }
    }

    @Test func smallMapsTakeOneFilterBlock() {
        // 80 filters @20×20 (25 tiles): one block, transformed in the input transform's job.
        let small = WinogradConvolution.Plan(tile: .f4, channels: 80, filters: 80, outHeight: 20, outWidth: 20)
        #expect(small.filterBlocks == 1 && small.filtersPerBlock == 80)
        // 128 filters keep blocks of 64; so do 80 filters on a map of more than 100 tiles.
        let wide = WinogradConvolution.Plan(tile: .f4, channels: 128, filters: 128, outHeight: 20, outWidth: 20)
        #expect(wide.filterBlocks == 2)
        let big = WinogradConvolution.Plan(tile: .f4, channels: 64, filters: 80, outHeight: 80, outWidth: 80)
        #expect(big.filterBlocks == 2)
        // A block size given explicitly (tests) still applies.
        let given = WinogradConvolution.Plan(
            tile: .f4, channels: 16, filters: 40, outHeight: 20, outWidth: 20, filterBlock: 16)
        #expect(given.filterBlocks == 3)
        // M's rows: room for a sixteen-lane load past the last tile, an odd multiple of 8 apart.
        for plan in [small, wide, big, given] {
            #expect(plan.blockStride >= plan.tilePanels * PanelGemm.columns + 16)
            #expect(plan.blockStride % 16 == 8)
        }
    }
}

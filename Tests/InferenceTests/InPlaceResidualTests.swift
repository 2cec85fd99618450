import Testing

@testable import Inference
@testable import InferenceKernels

/// `MemoryPlan` gives a Winograd convolution that folds a residual in the residual's buffer as
/// its output (`ConvolutionalLayer.writesOverResidual`). That is only right while the kernel reads
/// each residual float before it stores the output float at the same index and never reads one
/// after: this runs the kernel with the output aliasing the residual and compares it bit for bit
/// with separate buffers, and both with the naive convolution plus the residual.
@Suite("In-place residuals")
struct InPlaceResidualTests {
    @Test(arguments: [WinogradConvolution.Tile.f2, .f4], [1, 2])
    func winogradWritesOverItsResidualExactlyAsIntoASeparateBuffer(_ tile: WinogradConvolution.Tile, _ threads: Int) {
        // Small blocks so that several tile rows and filter blocks run (and, with 2 threads, in parallel).
        let (c, filters, h, w) = (16, 24, 19, 21)
        let (blockFloats, filterBlock) = (36 * 40 * 8, 8)
        var rng = DetTestRandom(seed: 42)
        let input = rng.floats(c * h * w)
        let weights = rng.floats(filters * c * 9, in: -0.2...0.2)
        let bias = rng.floats(filters)
        let residual = rng.floats(filters * h * w)
        let packed = weights.withUnsafeBufferPointer {
            WinogradConvolution.packWeights($0.baseAddress!, filters: filters, channels: c)
        }
        let size = WinogradConvolution.workspaceSize(
            tile: tile, channels: c, filters: filters, outHeight: h, outWidth: w, blockFloats: blockFloats,
            filterBlock: filterBlock)
        let pool = ComputePool(threads: threads)
        func run(output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>) {
            var workspace = [Float](repeating: .nan, count: size)
            input.withUnsafeBufferPointer { x in
                packed.withUnsafeBufferPointer { u in
                    bias.withUnsafeBufferPointer { b in
                        workspace.withUnsafeMutableBufferPointer { ws in
                            pool.run {
                                WinogradConvolution.run(
                                    tile: tile, input: x.baseAddress!, channels: c, height: h, width: w, pad: 1,
                                    weights: u.baseAddress!, bias: b.baseAddress!, filters: filters,
                                    activation: .leaky, output: output, outHeight: h, outWidth: w, residual: residual,
                                    workspace: ws.baseAddress!, blockFloats: blockFloats, filterBlock: filterBlock)
                            }
                        }
                    }
                }
            }
        }
        var separate = [Float](repeating: .nan, count: residual.count)
        separate.withUnsafeMutableBufferPointer { out in
            residual.withUnsafeBufferPointer { run(output: out.baseAddress!, residual: $0.baseAddress!) }
        }
        var shared = residual
        shared.withUnsafeMutableBufferPointer { run(output: $0.baseAddress!, residual: UnsafePointer($0.baseAddress!)) }
        #expect(shared == separate)
        let conv = naiveConvolution(
            input: input, shape: FeatureShape(channels: c, height: h, width: w), weights: weights, bias: bias,
            filters: filters, size: 3, stride: 1, pad: 1, groups: 1, activation: .leaky)
        let want = zip(conv, residual).map { $0 + $1 }
        #expect(maxErrorOverMagnitude(shared, want) < 1e-4)
    }
}

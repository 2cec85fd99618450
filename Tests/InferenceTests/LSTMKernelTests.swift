import Foundation
import Testing

@testable import Inference
@testable import InferenceKernels

@Suite("LSTM kernels: vectorised activations")
struct LSTMKernelTests {
    @Test("exp8 matches expf to 3e-7 relative over the useful range")
    func exp8() {
        var worst: Float = 0
        var x: Float = -87
        while x < 88 {
            let v = SIMD8<Float>((0..<8).map { x + Float($0) * 0.0137 })
            let e = LSTMKernels.exp8(v)
            for k in 0..<8 {
                let want = expf(v[k])
                worst = max(worst, abs(e[k] - want) / want)
            }
            x += 0.173
        }
        #expect(worst < 3e-7, "worst relative error \(worst)")
        let extremes = LSTMKernels.exp8(SIMD8<Float>(-1000, -100, -88, 0, 1e-30, 89, 100, 1000))
        #expect((0..<8).allSatisfy { extremes[$0].isFinite && extremes[$0] >= 0 })
        #expect(extremes[3] == 1)
    }

    @Test("sigmoidInPlace agrees with the scalar sigmoid, tails included", arguments: [1, 7, 8, 9, 31, 200])
    func sigmoid(count: Int) {
        var rng = SeededGenerator(seed: UInt64(count))
        var values = (0..<count).map { _ in Float(rng.uniform(-30, 30)) }
        values[0] = count > 1 ? -200 : 200
        let want = values.map { Float(1 / (1 + exp(-Double($0)))) }  // not the engine's scalar sigmoid
        values.withUnsafeMutableBufferPointer { LSTMKernels.sigmoidInPlace($0.baseAddress!, count: count) }
        for k in 0..<count { #expect(abs(values[k] - want[k]) < 3e-7) }
        #expect(values.allSatisfy { $0 >= 0 && $0 <= 1 })
    }
}

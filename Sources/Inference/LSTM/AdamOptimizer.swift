import InferenceKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Adam with Keras's defaults and update rule (Keras 3): `beta1` 0.9, `beta2` 0.999,
/// `epsilon` 1e-7, bias correction folded into the step size.
package struct AdamOptimizer: Sendable {
    package var learningRate: Float
    package var beta1: Float
    package var beta2: Float
    package var epsilon: Float
    /// Steps taken so far.
    package private(set) var iterations = 0
    private var m: [Float]
    private var v: [Float]

    package init(
        parameterCount: Int, learningRate: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999,
        epsilon: Float = 1e-7
    ) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        m = [Float](repeating: 0, count: parameterCount)
        v = [Float](repeating: 0, count: parameterCount)
    }

    /// One update of `parameters` along `gradient` (same count as at init).
    package mutating func step(_ parameters: inout [Float], gradient: UnsafePointer<Float>) {
        iterations += 1
        let t = Double(iterations)
        let lrT = Double(learningRate) * (1 - pow(Double(beta2), t)).squareRoot() / (1 - pow(Double(beta1), t))
        let count = min(parameters.count, m.count)
        let (b1, b2, eps) = (beta1, beta2, epsilon)
        parameters.withUnsafeMutableBufferPointer { p in
            m.withUnsafeMutableBufferPointer { mb in
                v.withUnsafeMutableBufferPointer { vb in
                    LSTMKernels.adamStep(
                        count: count, learningRate: Float(lrT), beta1: b1, beta2: b2, epsilon: eps,
                        params: p.baseAddress!, grads: gradient, m: mb.baseAddress!, v: vb.baseAddress!)
                }
            }
        }
    }
}

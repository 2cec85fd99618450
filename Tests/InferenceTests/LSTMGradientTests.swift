import Testing

@testable import Inference

@Suite("LSTM backpropagation through time")
struct LSTMGradientTests {
    /// Analytic gradients (float32 kernels) against central differences of the float64 naive loss.
    @Test(
        "gradients match finite differences",
        arguments: [
            (5, [1], 7, 1, true), (5, [1], 7, 4, true), (3, [3], 3, 2, false), (2, [4], 1, 3, true),
            (3, [3, 2], 4, 2, true), (2, [2, 2, 2], 3, 2, false),
        ])
    func finiteDifferences(shape: (inputSize: Int, units: [Int], steps: Int, batch: Int, tanh: Bool)) throws {
        let net = try randomNetwork(inputSize: shape.inputSize, units: shape.units, tanh: shape.tanh, seed: 21)
        var rng = SeededGenerator(seed: 22)
        let x = randomFloats(shape.steps * shape.batch * shape.inputSize, &rng, scale: 1.5)
        let targets = randomFloats(shape.batch, &rng, scale: 0.9)
        let analytic = workspaceLossAndGradient(
            net, inputs: x, targets: targets, steps: shape.steps, batch: shape.batch)
        let inputs = NaiveLSTM.unflatten(x, steps: shape.steps, batch: shape.batch, inputSize: shape.inputSize)
        let t = targets.map(Double.init)
        let p = net.parameters.map(Double.init)
        func loss(_ q: [Double]) -> Double {
            NaiveLSTM.loss(
                parameters: q, inputSize: shape.inputSize, units: shape.units, tanh: shape.tanh, inputs: inputs,
                targets: t)
        }
        #expect(abs(Double(analytic.loss) - loss(p)) < 1e-5)
        let h = 1e-5
        var worst = 0.0
        var worstAt = 0
        var worstNumeric = 0.0
        for j in 0..<p.count {
            var plus = p
            var minus = p
            plus[j] += h
            minus[j] -= h
            let numeric = (loss(plus) - loss(minus)) / (2 * h)
            let error = abs(numeric - Double(analytic.gradient[j])) / max(1e-2, abs(numeric))
            if error > worst { (worst, worstAt, worstNumeric) = (error, j, numeric) }
        }
        #expect(
            worst < 1e-3,
            "parameter \(worstAt) of \(p.count): numeric \(worstNumeric), analytic \(analytic.gradient[worstAt])")
    }

    @Test("the gradient is zero where the loss is minimal")
    func zeroAtTarget() throws {
        let net = try randomNetwork(inputSize: 2, units: [3], tanh: false, seed: 3)
        var rng = SeededGenerator(seed: 4)
        let x = randomFloats(4 * 2 * 2, &rng)
        let y = try net.predict(x, batch: 2, steps: 4)
        let r = workspaceLossAndGradient(net, inputs: x, targets: y, steps: 4, batch: 2)
        #expect(r.loss == 0)
        #expect(r.gradient.allSatisfy { $0 == 0 })
    }
}

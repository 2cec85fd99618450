import Testing

@testable import Inference

@Suite("LSTM forward")
struct LSTMForwardTests {
    @Test("matches the numpy (and Keras-checked) reference", arguments: LSTMReferenceFixture.cases)
    func reference(_ c: LSTMReferenceCase) throws {
        let net = try LSTMNetwork(
            inputSize: c.inputSize, units: c.units, activation: c.tanh ? .tanh : .linear, parameters: c.parameters)
        let y = try net.predict(c.inputs, batch: c.batch, steps: c.steps)
        #expect(y.count == c.expected.count)
        for (got, want) in zip(y, c.expected) {
            #expect(abs(Double(got) - want) < 2e-5, "\(c.name): \(got) vs \(want)")
        }
    }

    @Test(
        "kernels match a naive float64 LSTM over a sweep of shapes",
        arguments: [
            (5, [1], 7, 1), (5, [1], 7, 9), (3, [4], 1, 2), (2, [8], 5, 3), (4, [3, 2], 4, 5), (1, [2, 2, 2], 3, 2),
        ])
    func naive(shape: (inputSize: Int, units: [Int], steps: Int, batch: Int)) throws {
        for useTanh in [true, false] {
            let net = try randomNetwork(inputSize: shape.inputSize, units: shape.units, tanh: useTanh, seed: 11)
            var rng = SeededGenerator(seed: 12)
            let x = randomFloats(shape.steps * shape.batch * shape.inputSize, &rng, scale: 2)
            let want = NaiveLSTM.forward(
                parameters: net.parameters.map(Double.init), inputSize: shape.inputSize, units: shape.units,
                tanh: useTanh,
                inputs: NaiveLSTM.unflatten(x, steps: shape.steps, batch: shape.batch, inputSize: shape.inputSize))
            let served = try net.predict(x, batch: shape.batch, steps: shape.steps)
            let trained = workspaceLossAndGradient(
                net, inputs: x, targets: [Float](repeating: 0, count: shape.batch), steps: shape.steps,
                batch: shape.batch)
            for b in 0..<shape.batch {
                #expect(abs(Double(served[b]) - want[b]) < 1e-5)
                #expect(abs(Double(trained.outputs[b]) - want[b]) < 1e-5)
            }
        }
    }

    @Test("each batch row is independent of the others")
    func batchIndependence() throws {
        let net = try randomNetwork(inputSize: 3, units: [4], tanh: true, seed: 5)
        var rng = SeededGenerator(seed: 6)
        let (steps, batch, width) = (4, 6, 3)
        let x = randomFloats(steps * batch * width, &rng)
        let all = try net.predict(x, batch: batch, steps: steps)
        for b in 0..<batch {
            var one: [Float] = []
            for t in 0..<steps { one += x[((t * batch + b) * width)..<((t * batch + b + 1) * width)] }
            let single = try net.predict(one, batch: 1, steps: steps)
            #expect(abs(single[0] - all[b]) < 1e-6)
        }
    }

    @Test("a wrong input size is a shape error, not a crash")
    func shapeMismatch() throws {
        let net = try randomNetwork(inputSize: 5, units: [1], tanh: true, seed: 1)
        #expect(throws: InferenceError.self) { try net.predict([1, 2, 3], batch: 1, steps: 7) }
        #expect(throws: InferenceError.self) { try net.predict([], batch: 0, steps: 7) }
        #expect(throws: InferenceError.self) {
            try LSTMNetwork(inputSize: 5, units: [1], activation: .tanh, parameters: [1, 2])
        }
        #expect(throws: InferenceError.self) { try LSTMNetwork(inputSize: 0, units: [1], activation: .tanh) }
        #expect(throws: InferenceError.self) { try LSTMNetwork(inputSize: 5, units: [], activation: .tanh) }
    }

    @Test("Keras initialisation: glorot bounds, orthogonal recurrent rows, unit forget bias")
    func kerasInit() throws {
        let net = try LSTMNetwork.kerasInitialized(inputSize: 5, units: [3, 2], activation: .tanh, seed: 7)
        for layer in net.layers {
            let u = layer.units
            let g4 = 4 * u
            let limit = Float((6.0 / Double(layer.inputSize + g4)).squareRoot())
            let kernel = net.parameters[layer.kernel..<layer.recurrent]
            #expect(kernel.allSatisfy { abs($0) <= limit })
            #expect(kernel.contains { abs($0) > limit / 2 })
            // Rows of the [u, 4u] recurrent kernel are orthonormal.
            for r in 0..<u {
                for s in 0..<u {
                    var dot: Float = 0
                    for j in 0..<g4 {
                        dot +=
                            net.parameters[layer.recurrent + r * g4 + j] * net.parameters[layer.recurrent + s * g4 + j]
                    }
                    #expect(abs(dot - (r == s ? 1 : 0)) < 1e-5)
                }
            }
            let bias = Array(net.parameters[layer.bias..<layer.end])
            #expect(
                bias == [Float](repeating: 0, count: u) + [Float](repeating: 1, count: u)
                    + [Float](repeating: 0, count: 2 * u))
        }
        let same = try LSTMNetwork.kerasInitialized(inputSize: 5, units: [3, 2], activation: .tanh, seed: 7)
        let other = try LSTMNetwork.kerasInitialized(inputSize: 5, units: [3, 2], activation: .tanh, seed: 8)
        #expect(same == net)
        #expect(other != net)
    }
}

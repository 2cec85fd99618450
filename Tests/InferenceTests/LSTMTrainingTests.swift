import Foundation
import Testing

@testable import Inference

@Suite("LSTM training")
struct LSTMTrainingTests {
    @Test("Adam follows the Keras 3 update rule")
    func adam() {
        var params: [Float] = [0.5, -1, 2]
        var adam = AdamOptimizer(parameterCount: 3, learningRate: 0.01)
        var p = params.map(Double.init)
        var m = [0.0, 0, 0]
        var v = [0.0, 0, 0]
        let grads: [[Float]] = [[0.3, -0.2, 1e-4], [0.1, 0.4, -2], [-0.5, 0, 3]]
        for (step, g) in grads.enumerated() {
            g.withUnsafeBufferPointer { adam.step(&params, gradient: $0.baseAddress!) }
            let t = Double(step + 1)
            let lr = 0.01 * (1 - pow(0.999, t)).squareRoot() / (1 - pow(0.9, t))
            for j in 0..<3 {
                let gj = Double(g[j])
                m[j] += (gj - m[j]) * 0.1
                v[j] += (gj * gj - v[j]) * 0.001
                p[j] -= lr * m[j] / (v[j].squareRoot() + 1e-7)
            }
        }
        #expect(adam.iterations == 3)
        for j in 0..<3 { #expect(abs(Double(params[j]) - p[j]) < 1e-6) }
    }

    /// A learnable toy: the target is a squashed sum of the first feature over the window.
    func toySamples(count: Int, seed: UInt64, sign: Float = 1) -> LSTMSamples {
        var rng = SeededGenerator(seed: seed)
        let (steps, width) = (5, 2)
        let x = randomFloats(count * steps * width, &rng)
        let y = (0..<count).map { n in
            sign * tanhf((0..<steps).map { x[(n * steps + $0) * width] }.reduce(0, +) / 2)
        }
        return LSTMSamples(count: count, steps: steps, inputSize: width, outputs: 1, inputs: x, targets: y)
    }

    @Test("fitting lowers the loss, and the same seed gives the same weights")
    func learnsAndIsDeterministic() throws {
        let samples = toySamples(count: 70, seed: 1)
        func run(_ seed: UInt64) throws -> (LSTMNetwork, LSTMTrainingHistory) {
            var net = try LSTMNetwork.kerasInitialized(inputSize: 2, units: [4], activation: .tanh, seed: seed)
            let h = try LSTMTrainer.fit(
                &net, samples: samples,
                options: LSTMTrainingOptions(epochs: 30, batchSize: 16, learningRate: 0.02, seed: seed))
            return (net, h)
        }
        let (a, history) = try run(3)
        let (b, _) = try run(3)
        let (c, _) = try run(4)
        #expect(history.epochsRun == 30)
        #expect(history.losses.last! < history.losses.first! * 0.5)
        #expect(a == b)
        #expect(a != c)
        let mse = try LSTMTrainer.validationLoss(a, samples, inputs: samples.timeMajorInputs())
        #expect(mse < history.losses.first!)
    }

    @Test("early stopping keeps the best weights and stops after the patience")
    func earlyStopping() throws {
        let train = toySamples(count: 48, seed: 2)
        let opposite = toySamples(count: 20, seed: 3, sign: -1)  // learning the task makes this worse
        var net = try LSTMNetwork.kerasInitialized(inputSize: 2, units: [3], activation: .tanh, seed: 1)
        for j in net.denseKernel..<net.parameterCount { net.parameters[j] = 0 }
        let initial = net
        let history = try LSTMTrainer.fit(
            &net, samples: train, validation: opposite,
            options: LSTMTrainingOptions(epochs: 200, batchSize: 8, learningRate: 0.02, seed: 1, patience: 5))
        #expect(history.bestEpoch == 0)
        #expect(history.epochsRun == 5)
        #expect(net == initial)
    }

    @Test("bad training input is an error")
    func badInput() throws {
        var net = try LSTMNetwork.kerasInitialized(inputSize: 3, units: [2], activation: .tanh, seed: 1)
        let empty = LSTMSamples(count: 0, steps: 5, inputSize: 3, outputs: 1, inputs: [], targets: [])
        #expect(throws: InferenceError.self) { try LSTMTrainer.fit(&net, samples: empty, options: .init(epochs: 1)) }
        let wrong = toySamples(count: 4, seed: 1)  // 2 features, the network takes 3
        #expect(throws: InferenceError.self) { try LSTMTrainer.fit(&net, samples: wrong, options: .init(epochs: 1)) }
    }

    @Test("the generator is deterministic, uniform and shuffles every index once")
    func generator() {
        var a = SeededGenerator(seed: 9)
        var b = SeededGenerator(seed: 9)
        #expect((0..<10).map { _ in a.next() } == (0..<10).map { _ in b.next() })
        var r = SeededGenerator(seed: 0)
        let u = (0..<20_000).map { _ in r.nextUnit() }
        #expect(u.allSatisfy { $0 >= 0 && $0 < 1 })
        #expect(abs(u.reduce(0, +) / 20_000 - 0.5) < 0.01)
        let n = (0..<20_000).map { _ in r.normal() }
        let mean = n.reduce(0, +) / 20_000
        let variance = n.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 20_000
        #expect(abs(mean) < 0.03 && abs(variance - 1) < 0.05)
        let p = r.permutation(100)
        #expect(p.sorted() == Array(0..<100))
        #expect(p != Array(0..<100))
    }
}

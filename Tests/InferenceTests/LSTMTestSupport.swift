import Foundation

@testable import Inference

/// A naive, scalar, float64 LSTM (Keras semantics) written from the equations, used as the
/// reference for the kernels: forward values and, by central differences, gradients.
enum NaiveLSTM {
    /// Outputs [batch] (one Dense output) for `inputs` [steps][batch][inputSize].
    static func forward(
        parameters p: [Double], inputSize: Int, units: [Int], tanh useTanh: Bool, inputs: [[[Double]]]
    ) -> [Double] {
        let steps = inputs.count
        let batch = inputs[0].count
        var seq = inputs  // [steps][batch][features]
        var offset = 0
        var inSize = inputSize
        for u in units {
            let kernel = offset
            let recurrent = kernel + inSize * 4 * u
            let bias = recurrent + u * 4 * u
            offset = bias + 4 * u
            var out = [[[Double]]](
                repeating: [[Double]](repeating: [Double](repeating: 0, count: u), count: batch), count: steps)
            for b in 0..<batch {
                var h = [Double](repeating: 0, count: u)
                var c = [Double](repeating: 0, count: u)
                for t in 0..<steps {
                    var z = [Double](repeating: 0, count: 4 * u)
                    for g in 0..<(4 * u) {
                        var s = p[bias + g]
                        for k in 0..<inSize { s += seq[t][b][k] * p[kernel + k * 4 * u + g] }
                        for k in 0..<u { s += h[k] * p[recurrent + k * 4 * u + g] }
                        z[g] = s
                    }
                    for j in 0..<u {
                        let i = 1 / (1 + exp(-z[j]))
                        let f = 1 / (1 + exp(-z[u + j]))
                        let g = Foundation.tanh(z[2 * u + j])
                        let o = 1 / (1 + exp(-z[3 * u + j]))
                        c[j] = f * c[j] + i * g
                        h[j] = o * Foundation.tanh(c[j])
                    }
                    out[t][b] = h
                }
            }
            seq = out
            inSize = u
        }
        return (0..<batch).map { b in
            var y = p[offset + inSize]
            for k in 0..<inSize { y += seq[steps - 1][b][k] * p[offset + k] }
            return useTanh ? Foundation.tanh(y) : y
        }
    }

    /// Keras MSE of `forward` against `targets`.
    static func loss(
        parameters: [Double], inputSize: Int, units: [Int], tanh: Bool, inputs: [[[Double]]], targets: [Double]
    ) -> Double {
        let y = forward(parameters: parameters, inputSize: inputSize, units: units, tanh: tanh, inputs: inputs)
        return zip(y, targets).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / Double(y.count)
    }

    /// [steps][batch][inputSize] from a flat time-major array.
    static func unflatten(_ x: [Float], steps: Int, batch: Int, inputSize: Int) -> [[[Double]]] {
        (0..<steps).map { t in
            (0..<batch).map { b in (0..<inputSize).map { Double(x[(t * batch + b) * inputSize + $0]) } }
        }
    }
}

/// Seeded random arrays for tests.
func randomFloats(_ count: Int, _ rng: inout SeededGenerator, scale: Double = 1) -> [Float] {
    (0..<count).map { _ in Float(rng.uniform(-scale, scale)) }
}

/// A network with seeded random weights (larger than Keras init, so every gate matters).
func randomNetwork(inputSize: Int, units: [Int], tanh: Bool, seed: UInt64) throws -> LSTMNetwork {
    var net = try LSTMNetwork(inputSize: inputSize, units: units, activation: tanh ? .tanh : .linear)
    var rng = SeededGenerator(seed: seed)
    net.parameters = randomFloats(net.parameterCount, &rng, scale: 0.7)
    return net
}

/// Runs the training workspace on one batch: (loss, gradient, outputs).
func workspaceLossAndGradient(
    _ net: LSTMNetwork, inputs: [Float], targets: [Float], steps: Int, batch: Int
) -> (loss: Float, gradient: [Float], outputs: [Float]) {
    let ws = LSTMGradientWorkspace(network: net, steps: steps, maxBatch: batch)
    for j in 0..<inputs.count { ws.inputs[j] = inputs[j] }
    for j in 0..<targets.count { ws.targets[j] = targets[j] }
    let loss = ws.lossAndGradient(network: net, batch: batch)
    return (loss, (0..<net.parameterCount).map { ws.gradient[$0] }, (0..<batch).map { ws.outputs[$0] })
}

/// GOOG daily rows (Open, High, Low, Volume, Close), oldest first, from `../shared`.
func googRows() throws -> [[Double]] {
    let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let path = repo.deletingLastPathComponent().appendingPathComponent("shared/data/stock/goog-daily.csv").path
    let text = try String(contentsOfFile: path, encoding: .utf8)
    var rows: [[Double]] = []
    for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
        let l = line.trimmingCharacters(in: .whitespaces)
        if l.isEmpty || l.hasPrefix("#") { continue }
        rows.append(l.split(separator: ",").compactMap { Double($0) })
    }
    return rows.reversed()
}

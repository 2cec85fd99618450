import InferenceKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A stack of Keras-style LSTM layers followed by one Dense layer, reading a sequence and
/// answering from the last step's hidden state (`return_sequences=False` on the top layer).
///
/// Every weight lives in one flat `parameters` array (so the optimizer is one loop); the
/// layout per LSTM layer is Keras's: `kernel [input, 4*units]`, `recurrent_kernel
/// [units, 4*units]`, `bias [4*units]`, gates in the order `i, f, c, o`; then the Dense
/// `kernel [units, outputs]` and `bias [outputs]`. All row-major.
///
/// Immutable once built and shared by every request; `predict` allocates its own scratch.
package struct LSTMNetwork: Sendable, Equatable {
    /// The Dense layer's activation.
    package enum Activation: String, Codable, Sendable {
        case tanh
        case linear
    }

    /// Where one LSTM layer's tensors start in `parameters`.
    package struct LayerLayout: Sendable, Equatable {
        package var inputSize: Int
        package var units: Int
        package var kernel: Int
        package var recurrent: Int
        package var bias: Int
        /// Offset one past the layer's last parameter.
        package var end: Int
    }

    /// Features per time step.
    package let inputSize: Int
    /// Units of each stacked LSTM layer, bottom first.
    package let units: [Int]
    /// Width of the Dense output.
    package let outputs: Int
    package let activation: Activation
    /// Every weight, in the layout above.
    package var parameters: [Float]
    package let layers: [LayerLayout]
    /// Offsets of the Dense kernel `[units.last, outputs]` and bias `[outputs]`.
    package let denseKernel: Int
    package let denseBias: Int

    /// Number of parameters of this architecture.
    package var parameterCount: Int { denseBias + outputs }

    /// Builds a network over `parameters` (zeros when nil), checking sizes.
    package init(
        inputSize: Int, units: [Int], outputs: Int = 1, activation: Activation, parameters: [Float]? = nil
    ) throws {
        guard inputSize > 0, inputSize <= 4096 else {
            throw InferenceError(.invalidModel, "LSTM input size must be 1...4096, not \(inputSize)")
        }
        guard !units.isEmpty, units.count <= 16, units.allSatisfy({ $0 > 0 && $0 <= 4096 }) else {
            throw InferenceError(.invalidModel, "LSTM units must be 1 to 16 layers of 1...4096 units, not \(units)")
        }
        guard outputs > 0, outputs <= 4096 else {
            throw InferenceError(.invalidModel, "Dense outputs must be 1...4096, not \(outputs)")
        }
        var layers: [LayerLayout] = []
        var offset = 0
        var inSize = inputSize
        for u in units {
            let kernel = offset
            let recurrent = kernel + inSize * 4 * u
            let bias = recurrent + u * 4 * u
            offset = bias + 4 * u
            layers.append(
                LayerLayout(inputSize: inSize, units: u, kernel: kernel, recurrent: recurrent, bias: bias, end: offset))
            inSize = u
        }
        self.inputSize = inputSize
        self.units = units
        self.outputs = outputs
        self.activation = activation
        self.layers = layers
        self.denseKernel = offset
        self.denseBias = offset + inSize * outputs
        let count = denseBias + outputs
        if let parameters {
            guard parameters.count == count else {
                throw InferenceError(
                    .invalidWeights,
                    "LSTM \(units) over \(inputSize) inputs needs \(count) parameters, got \(parameters.count)")
            }
            guard parameters.allSatisfy({ $0.isFinite }) else {
                throw InferenceError(.invalidWeights, "LSTM parameters contain NaN or infinity")
            }
            self.parameters = parameters
        } else {
            self.parameters = [Float](repeating: 0, count: count)
        }
    }

    /// Keras's default initialisation, driven by `seed`: `glorot_uniform` kernels,
    /// `orthogonal` recurrent kernels, zero biases with `unit_forget_bias=True` (forget gate
    /// bias 1), and a `glorot_uniform` Dense kernel with a zero bias.
    package static func kerasInitialized(
        inputSize: Int, units: [Int], outputs: Int = 1, activation: Activation, seed: UInt64
    ) throws -> LSTMNetwork {
        var net = try LSTMNetwork(inputSize: inputSize, units: units, outputs: outputs, activation: activation)
        var rng = SeededGenerator(seed: seed)
        for layer in net.layers {
            let g4 = 4 * layer.units
            let limit = (6.0 / Double(layer.inputSize + g4)).squareRoot()
            for j in 0..<(layer.inputSize * g4) {
                net.parameters[layer.kernel + j] = Float(rng.uniform(-limit, limit))
            }
            let q = orthogonal(rows: layer.units, cols: g4, rng: &rng)
            for j in 0..<q.count { net.parameters[layer.recurrent + j] = q[j] }
            for u in 0..<layer.units { net.parameters[layer.bias + layer.units + u] = 1 }
        }
        let top = units[units.count - 1]
        let limit = (6.0 / Double(top + outputs)).squareRoot()
        for j in 0..<(top * outputs) {
            net.parameters[net.denseKernel + j] = Float(rng.uniform(-limit, limit))
        }
        return net
    }

    /// Keras `Orthogonal`: QR of a normal matrix of shape (max, min), sign-corrected, transposed
    /// when there are fewer rows than columns. Gram-Schmidt gives the same Q with a positive
    /// diagonal R, which is what the sign correction produces. Returns [rows, cols] row-major.
    static func orthogonal(rows: Int, cols: Int, rng: inout SeededGenerator) -> [Float] {
        let tall = max(rows, cols)
        let narrow = min(rows, cols)
        // a: [tall, narrow], column-major for Gram-Schmidt on columns.
        var a = [Double](repeating: 0, count: tall * narrow)
        for r in 0..<tall { for c in 0..<narrow { a[c * tall + r] = rng.normal() } }
        for c in 0..<narrow {
            for p in 0..<c {
                var dot = 0.0
                for r in 0..<tall { dot += a[c * tall + r] * a[p * tall + r] }
                for r in 0..<tall { a[c * tall + r] -= dot * a[p * tall + r] }
            }
            var norm = 0.0
            for r in 0..<tall { norm += a[c * tall + r] * a[c * tall + r] }
            norm = norm.squareRoot()
            if norm < 1e-12 { norm = 1 }
            for r in 0..<tall { a[c * tall + r] /= norm }
        }
        var out = [Float](repeating: 0, count: rows * cols)
        for r in 0..<rows {
            for c in 0..<cols {
                // q is [tall, narrow]; when rows < cols the result is q transposed.
                out[r * cols + c] = Float(rows >= cols ? a[c * tall + r] : a[r * tall + c])
            }
        }
        return out
    }

    /// Batched forward pass for serving.
    ///
    /// - inputs: [steps, batch, inputSize], time-major (step 0 is the oldest)
    /// - returns: [batch, outputs]
    package func predict(_ inputs: [Float], batch: Int, steps: Int) throws -> [Float] {
        guard batch > 0, steps > 0, inputs.count == steps * batch * inputSize else {
            throw InferenceError(
                .shapeMismatch,
                "LSTM input has \(inputs.count) values, expected steps \(steps) x batch \(batch) x \(inputSize)")
        }
        let maxUnits = units.max() ?? 1
        // Per-call scratch: two sequences of hidden states [steps, batch, units] (ping-pong
        // between layers), one cell state, gates and a zero row.
        var seqA = [Float](repeating: 0, count: steps * batch * maxUnits)
        var seqB = seqA
        var c = [Float](repeating: 0, count: batch * maxUnits)
        var tanhC = c
        let zeros = c
        var gates = [Float](repeating: 0, count: batch * 4 * maxUnits)
        var out = [Float](repeating: 0, count: batch * outputs)
        let topUnits = units[units.count - 1]
        parameters.withUnsafeBufferPointer { pw in
            let p = pw.baseAddress!
            inputs.withUnsafeBufferPointer { xin in
                seqA.withUnsafeMutableBufferPointer { sa in
                    seqB.withUnsafeMutableBufferPointer { sb in
                        c.withUnsafeMutableBufferPointer { cb in
                            tanhC.withUnsafeMutableBufferPointer { tb in
                                zeros.withUnsafeBufferPointer { zb in
                                    gates.withUnsafeMutableBufferPointer { gb in
                                        var input = UnsafePointer(xin.baseAddress!)
                                        var output = sa.baseAddress!
                                        var spare = sb.baseAddress!
                                        for layer in layers {
                                            let u = layer.units
                                            for j in 0..<(batch * u) { cb[j] = 0 }
                                            for t in 0..<steps {
                                                let hPrev =
                                                    t == 0
                                                    ? zb.baseAddress! : UnsafePointer(output + (t - 1) * batch * u)
                                                LSTMKernels.cellForward(
                                                    batch: batch, inputSize: layer.inputSize, units: u,
                                                    x: input + t * batch * layer.inputSize, hPrev: hPrev,
                                                    cPrev: UnsafePointer(cb.baseAddress!),
                                                    kernel: p + layer.kernel, recurrent: p + layer.recurrent,
                                                    bias: p + layer.bias, gates: gb.baseAddress!, c: cb.baseAddress!,
                                                    tanhC: tb.baseAddress!, h: output + t * batch * u)
                                            }
                                            input = UnsafePointer(output)
                                            swap(&output, &spare)
                                        }
                                        out.withUnsafeMutableBufferPointer { ob in
                                            LSTMKernels.denseForward(
                                                batch: batch, inputSize: topUnits, outputs: outputs,
                                                useTanh: activation == .tanh,
                                                h: input + (steps - 1) * batch * topUnits,
                                                kernel: p + denseKernel, bias: p + denseBias, y: ob.baseAddress!)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}

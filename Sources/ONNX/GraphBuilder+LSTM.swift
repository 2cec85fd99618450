extension GraphBuilder {
    /// The activations ONNX's LSTM uses when the node names none (the only ones we run).
    static let defaultLSTMActivations = ["Sigmoid", "Tanh", "Tanh"]

    /// LSTM (opset 7/14 semantics, what tf2onnx emits for a Keras LSTM): constant `W`, `R`, `B`
    /// and `sequence_lens`; `initial_h`/`initial_c` known or computed; directions forward,
    /// reverse or bidirectional; both layouts. Refused: other activations, `clip`,
    /// `input_forget`, non-zero peepholes.
    mutating func addLSTM(_ node: Onnx_NodeProto, _ inputs: [ImportValue?]) throws {
        let label = "\(node.label) at opset \(opset)"
        func constant(_ i: Int, _ what: String) throws -> ConstantTensor? {
            guard i < inputs.count, let v = inputs[i] else { return nil }
            guard case .constant(let c) = v else {
                throw ONNXError(
                    .unsupported, "\(label): \(what) (input \(i + 1)) must be a constant known at import")
            }
            return c
        }
        guard let xValue = inputs.first ?? nil else { throw ONNXError(.invalidModel, "\(label) has no input X") }
        let (x, xShape) = try runtime(xValue, label)
        guard let w = try constant(1, "W"), let r = try constant(2, "R"), !w.isInteger, !r.isInteger else {
            throw ONNXError(.unsupported, "\(label): W and R must be constant float tensors")
        }
        let direction = node.string("direction", "forward")
        let reverse: [Bool]
        switch direction {
        case "forward": reverse = [false]
        case "reverse": reverse = [true]
        case "bidirectional": reverse = [false, true]
        default: throw ONNXError(.invalidModel, "\(label): direction '\(direction)' is not an LSTM direction")
        }
        let dirs = reverse.count
        let layout = node.int("layout", 0)
        guard layout == 0 || layout == 1 else { throw ONNXError(.invalidModel, "\(label): layout \(layout)") }
        guard xShape.count == 3 else {
            throw ONNXError(.invalidModel, "\(label): X has shape \(xShape); an LSTM input has 3 axes")
        }
        let (seq, batch, input) = layout == 0 ? (xShape[0], xShape[1], xShape[2]) : (xShape[1], xShape[0], xShape[2])
        guard w.shape.count == 3, w.shape[0] == dirs, w.shape[1] % 4 == 0, w.shape[1] > 0, w.shape[2] == input else {
            throw ONNXError(
                .invalidModel,
                "\(label): W has shape \(w.shape); it must be [\(dirs), 4·hidden, \(input)] for \(direction) over input \(xShape)"
            )
        }
        let hidden = w.shape[1] / 4
        if let declared = node.attribute("hidden_size").map({ Int($0.i) }), declared != hidden {
            throw ONNXError(.invalidModel, "\(label): hidden_size \(declared) disagrees with W \(w.shape)")
        }
        guard r.shape == [dirs, 4 * hidden, hidden] else {
            throw ONNXError(.invalidModel, "\(label): R has shape \(r.shape), not [\(dirs), \(4 * hidden), \(hidden)]")
        }
        let b = try constant(3, "B")
        if let b, b.isInteger || b.shape != [dirs, 8 * hidden] {
            throw ONNXError(.invalidModel, "\(label): B has shape \(b.shape), not [\(dirs), \(8 * hidden)] floats")
        }
        try checkDefaultLSTM(node, inputs, dirs: dirs, label: label)
        var lengths = [Int](repeating: seq, count: batch)
        if let lens = try constant(4, "sequence_lens") {
            guard lens.count == batch, lens.intValues.allSatisfy({ $0 >= 0 && $0 <= seq }) else {
                throw ONNXError(
                    .invalidModel, "\(label): sequence_lens \(lens.intValues) must be \(batch) lengths within 0…\(seq)")
            }
            lengths = lens.intValues
        }
        let stateShape = layout == 0 ? [dirs, batch, hidden] : [batch, dirs, hidden]
        func state(_ i: Int, _ what: String) throws -> Int? {
            guard i < inputs.count, let v = inputs[i] else { return nil }
            let (buffer, shape) = try runtime(v, "\(label) \(what)")
            guard shape == stateShape else {
                throw ONNXError(.invalidModel, "\(label): \(what) has shape \(shape), not \(stateShape)")
            }
            return buffer
        }
        let initialH = try state(5, "initial_h")
        let initialC = try state(6, "initial_c")
        // ONNX rows per gate: i, o, f, c. The kernel's columns: i, f, c, o.
        let onnxGate = [0, 2, 3, 1]
        let directions = (0..<dirs).map { d -> LSTMSpec.Direction in
            var kernel = [Float](repeating: 0, count: input * 4 * hidden)
            var recurrent = [Float](repeating: 0, count: hidden * 4 * hidden)
            var bias = [Float](repeating: 0, count: 4 * hidden)
            for gate in 0..<4 {
                for j in 0..<hidden {
                    let row = onnxGate[gate] * hidden + j
                    let column = gate * hidden + j
                    for k in 0..<input {
                        kernel[k * 4 * hidden + column] = w.floats[(d * 4 * hidden + row) * input + k]
                    }
                    for k in 0..<hidden {
                        recurrent[k * 4 * hidden + column] = r.floats[(d * 4 * hidden + row) * hidden + k]
                    }
                    if let b {
                        bias[column] = b.floats[d * 8 * hidden + row] + b.floats[d * 8 * hidden + 4 * hidden + row]
                    }
                }
            }
            return LSTMSpec.Direction(kernel: kernel, recurrent: recurrent, bias: bias, reverse: reverse[d])
        }
        func output(_ i: Int, _ shape: [Int]) throws -> Int? {
            guard i < node.output.count, !node.output[i].isEmpty else { return nil }
            let buffer = try newBuffer(shape, "\(label) output \(i + 1)")
            values[node.output[i]] = .runtime(buffer: buffer, shape: shape)
            return buffer
        }
        let yShape = layout == 0 ? [seq, dirs, batch, hidden] : [batch, seq, dirs, hidden]
        let spec = LSTMSpec(
            x: x, initialH: initialH, initialC: initialC, y: try output(0, yShape), yH: try output(1, stateShape),
            yC: try output(2, stateShape), seq: seq, batch: batch, input: input, hidden: hidden, layout: layout,
            directions: directions, lengths: lengths)
        guard !spec.writes.isEmpty else { throw ONNXError(.invalidModel, "\(label) has no output") }
        append(.lstm(spec), writes: spec.writes)
    }

    /// Refuses what the engine's cell does not compute: activations other than the defaults,
    /// `clip`, `input_forget`, and peepholes that are not all zero.
    private func checkDefaultLSTM(_ node: Onnx_NodeProto, _ inputs: [ImportValue?], dirs: Int, label: String) throws {
        if let a = node.attribute("activations") {
            let names = a.strings.map { String(decoding: $0, as: UTF8.self) }
            let expected = (0..<dirs).flatMap { _ in Self.defaultLSTMActivations }
            guard names.map({ $0.lowercased() }) == expected.map({ $0.lowercased() }) else {
                throw ONNXError(
                    .unsupported,
                    "\(label): activations \(names) are not supported; only the default Sigmoid, Tanh, Tanh per direction"
                )
            }
        }
        if node.attribute("clip") != nil {
            throw ONNXError(.unsupported, "\(label): the clip attribute is not supported")
        }
        guard node.int("input_forget", 0) == 0 else {
            throw ONNXError(.unsupported, "\(label): input_forget = 1 (coupled gates) is not supported")
        }
        if inputs.count > 7, let p = inputs[7] {
            guard case .constant(let c) = p, c.floatValues.allSatisfy({ $0 == 0 }) else {
                throw ONNXError(.unsupported, "\(label): peephole weights (input P) are not supported")
            }
        }
    }
}

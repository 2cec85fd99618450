import InferenceKernels

/// An ONNX `LSTM` node on the engine's LSTM cell (`LSTMKernels.cellForward`). The weights were
/// repacked at import from ONNX's `[4·hidden, input]` rows in gate order `i, o, f, c` (and the two
/// biases `Wb`, `Rb`) into the kernel's Keras layout: `[input, 4·hidden]` columns in gate order
/// `i, f, c, o`, one summed bias.
struct LSTMSpec: Sendable {
    /// One direction's weights in the kernel's layout.
    struct Direction: Sendable {
        /// `[input, 4·hidden]`.
        var kernel: [Float]
        /// `[hidden, 4·hidden]`.
        var recurrent: [Float]
        /// `[4·hidden]`: `Wb + Rb`.
        var bias: [Float]
        /// Walks the sequence from its last valid step to its first.
        var reverse: Bool
    }

    /// `X`: `[seq, batch, input]` (layout 0) or `[batch, seq, input]` (layout 1).
    var x: Int
    var initialH: Int?
    var initialC: Int?
    /// `Y`, `Y_h`, `Y_c` buffers, when the graph uses them.
    var y: Int?
    var yH: Int?
    var yC: Int?
    var seq: Int, batch: Int, input: Int, hidden: Int
    /// 1: batch-major tensors (`X [batch, seq, input]`, `Y [batch, seq, dirs, hidden]`,
    /// states `[batch, dirs, hidden]`); 0: ONNX's default sequence-major ones.
    var layout: Int
    var directions: [Direction]
    /// Valid steps of each batch row (all `seq` without `sequence_lens`).
    var lengths: [Int]

    /// Offset of state `[direction, row]` in `initial_h`/`Y_h`-shaped tensors.
    func stateOffset(_ d: Int, _ b: Int) -> Int {
        (layout == 0 ? d * batch + b : b * directions.count + d) * hidden
    }

    /// Offset of `Y[t, direction, row]`.
    func outputOffset(_ t: Int, _ d: Int, _ b: Int) -> Int {
        let dirs = directions.count
        return (layout == 0 ? (t * dirs + d) * batch + b : (b * seq + t) * dirs + d) * hidden
    }

    /// Offset of `X[t, row]`.
    func inputOffset(_ t: Int, _ b: Int) -> Int {
        (layout == 0 ? t * batch + b : b * seq + t) * input
    }

    /// Runs the recurrence on the buffer table: each direction and batch row on its own (rows
    /// may have different lengths), one `cellForward` per step. Steps past a row's length are
    /// zero in `Y`; `Y_h`/`Y_c` hold the state after its last valid step.
    func run(_ t: UnsafePointer<UnsafeMutablePointer<Float>>) {
        let h4 = 4 * hidden
        var state = [Float](repeating: 0, count: 5 * hidden + h4)
        state.withUnsafeMutableBufferPointer { buffer in
            let hPrev = buffer.baseAddress!
            let cPrev = hPrev + hidden
            let h = cPrev + hidden
            let c = h + hidden
            let tanhC = c + hidden
            let gates = tanhC + hidden
            if let y { t[y].update(repeating: 0, count: seq * directions.count * batch * hidden) }
            for (d, dir) in directions.enumerated() {
                for b in 0..<batch {
                    let offset = stateOffset(d, b)
                    if let i = initialH {
                        hPrev.update(from: t[i] + offset, count: hidden)
                    } else {
                        hPrev.update(repeating: 0, count: hidden)
                    }
                    if let i = initialC {
                        cPrev.update(from: t[i] + offset, count: hidden)
                    } else {
                        cPrev.update(repeating: 0, count: hidden)
                    }
                    let length = lengths[b]
                    dir.kernel.withUnsafeBufferPointer { kernel in
                        dir.recurrent.withUnsafeBufferPointer { recurrent in
                            dir.bias.withUnsafeBufferPointer { bias in
                                for s in 0..<length {
                                    let step = dir.reverse ? length - 1 - s : s
                                    LSTMKernels.cellForward(
                                        batch: 1, inputSize: input, units: hidden,
                                        x: t[x] + inputOffset(step, b), hPrev: hPrev, cPrev: cPrev,
                                        kernel: kernel.baseAddress!, recurrent: recurrent.baseAddress!,
                                        bias: bias.baseAddress!, gates: gates, c: c, tanhC: tanhC, h: h)
                                    hPrev.update(from: h, count: hidden)
                                    cPrev.update(from: c, count: hidden)
                                    if let y { (t[y] + outputOffset(step, d, b)).update(from: h, count: hidden) }
                                }
                            }
                        }
                    }
                    if let yH { (t[yH] + offset).update(from: hPrev, count: hidden) }
                    if let yC { (t[yC] + offset).update(from: cPrev, count: hidden) }
                }
            }
        }
    }

    /// Buffers the step reads.
    var reads: [Int] { [x] + [initialH, initialC].compactMap { $0 } }
    /// Buffers the step writes.
    var writes: [Int] { [y, yH, yC].compactMap { $0 } }
}

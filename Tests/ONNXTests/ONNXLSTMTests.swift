import FoundationEssentials
import SwiftProtobuf
import Testing

@testable import ONNX

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The ONNX LSTM operator, naively in Double from the spec: gates `i, o, f, c` in W/R rows,
/// `B = [Wb | Rb]`, sigmoid/tanh/tanh, steps past a row's length zero in Y.
enum NaiveLSTM {
    static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

    /// Returns (Y, Y_h, Y_c) flat, in the layout's order.
    static func run(
        x: [Float], seq: Int, batch: Int, input: Int, hidden: Int, w: [Float], r: [Float], b: [Float],
        reverse: [Bool], layout: Int, lengths: [Int]?, h0: [Float]?, c0: [Float]?
    ) -> (y: [Float], h: [Float], c: [Float]) {
        let dirs = reverse.count
        var y = [Float](repeating: 0, count: seq * dirs * batch * hidden)
        var yh = [Float](repeating: 0, count: dirs * batch * hidden)
        var yc = yh
        for d in 0..<dirs {
            for n in 0..<batch {
                let state = (layout == 0 ? d * batch + n : n * dirs + d) * hidden
                var h = (0..<hidden).map { Double(h0?[state + $0] ?? 0) }
                var c = (0..<hidden).map { Double(c0?[state + $0] ?? 0) }
                let length = lengths?[n] ?? seq
                for s in 0..<length {
                    let t = reverse[d] ? length - 1 - s : s
                    let xo = (layout == 0 ? t * batch + n : n * seq + t) * input
                    var z = [Double](repeating: 0, count: 4 * hidden)
                    for row in 0..<(4 * hidden) {
                        var v = Double(b[d * 8 * hidden + row]) + Double(b[d * 8 * hidden + 4 * hidden + row])
                        for k in 0..<input { v += Double(w[(d * 4 * hidden + row) * input + k]) * Double(x[xo + k]) }
                        for k in 0..<hidden { v += Double(r[(d * 4 * hidden + row) * hidden + k]) * h[k] }
                        z[row] = v
                    }
                    for j in 0..<hidden {
                        let (i, o, f, g) = (z[j], z[hidden + j], z[2 * hidden + j], z[3 * hidden + j])
                        c[j] = sigmoid(f) * c[j] + sigmoid(i) * tanh(g)
                        h[j] = sigmoid(o) * tanh(c[j])
                        let yo = (layout == 0 ? (t * dirs + d) * batch + n : (n * seq + t) * dirs + d) * hidden
                        y[yo + j] = Float(h[j])
                    }
                }
                for j in 0..<hidden {
                    yh[state + j] = Float(h[j])
                    yc[state + j] = Float(c[j])
                }
            }
        }
        return (y, yh, yc)
    }
}

@Suite("ONNX LSTM on the engine's LSTM cell, against a naive reference")
struct ONNXLSTMTests {
    typealias B = ModelBuilder

    struct Case: Sendable, CustomStringConvertible {
        var direction = "forward"
        var layout = 0
        var hidden = 3
        var lengths: [Int]? = nil
        var states = false
        var description: String {
            "\(direction) layout \(layout) hidden \(hidden) lens \(lengths != nil) states \(states)"
        }
    }

    static let cases: [Case] = [
        Case(hidden: 1), Case(hidden: 8, lengths: [5, 1, 3], states: true),
        Case(direction: "reverse", lengths: [2, 5, 0]),
        Case(direction: "bidirectional", hidden: 2, states: true), Case(layout: 1, hidden: 4, states: true),
        Case(direction: "bidirectional", layout: 1, lengths: [4, 5, 2]),
    ]

    @Test(arguments: cases)
    func matchesTheNaiveReference(_ c: Case) throws {
        let (seq, batch, input) = (5, 3, 4)
        let dirs = c.direction == "bidirectional" ? 2 : 1
        var rng = SeededFloats(seed: UInt64(c.hidden * 31 + c.layout * 7 + dirs))
        let w = rng.floats(dirs * 4 * c.hidden * input)
        let r = rng.floats(dirs * 4 * c.hidden * c.hidden)
        let b = rng.floats(dirs * 8 * c.hidden)
        let x = rng.floats(seq * batch * input).map { $0 * 2 }
        let stateShape = c.layout == 0 ? [dirs, batch, c.hidden] : [batch, dirs, c.hidden]
        let h0 = c.states ? rng.floats(dirs * batch * c.hidden) : nil
        let c0 = c.states ? rng.floats(dirs * batch * c.hidden) : nil
        var inits = [
            B.tensor("W", [dirs, 4 * c.hidden, input], w), B.tensor("R", [dirs, 4 * c.hidden, c.hidden], r),
            B.tensor("B", [dirs, 8 * c.hidden], b),
        ]
        if let lengths = c.lengths { inits.append(B.ints("lens", lengths)) }
        var inputs = [("x", c.layout == 0 ? [seq, batch, input] : [batch, seq, input])]
        var feeds = ["x": x]
        if let h0, let c0 {
            inputs += [("h0", stateShape), ("c0", stateShape)]
            feeds["h0"] = h0
            feeds["c0"] = c0
        }
        var attributes = [B.attr("hidden_size", int: c.hidden), B.attr("direction", string: c.direction)]
        if c.layout == 1 { attributes.append(B.attr("layout", int: 1)) }
        let node = B.node(
            "LSTM",
            ["x", "W", "R", "B", c.lengths == nil ? "" : "lens", c.states ? "h0" : "", c.states ? "c0" : ""],
            ["Y", "Y_h", "Y_c"], name: "lstm", attributes)
        let model = B.model(
            nodes: [node], inputs: inputs, outputs: ["Y", "Y_h", "Y_c"], initializers: inits,
            opset: c.layout == 1 ? 14 : 13)
        let got = try B.run(model, feeds)
        let want = NaiveLSTM.run(
            x: x, seq: seq, batch: batch, input: input, hidden: c.hidden, w: w, r: r, b: b,
            reverse: c.direction == "forward" ? [false] : c.direction == "reverse" ? [true] : [false, true],
            layout: c.layout, lengths: c.lengths, h0: h0, c0: c0)
        #expect(close(got[0], want.y), "Y")
        #expect(close(got[1], want.h), "Y_h")
        #expect(close(got[2], want.c), "Y_c")
    }

    /// The glue tf2onnx writes around a Keras LSTM (zero initial states from the input's
    /// symbolic batch via Shape/Cast/Slice/Concat/Expand/Unsqueeze; the last step of Y through
    /// Squeeze/Slice/Squeeze; Dense as MatMul + Add + Tanh) folds at import for any batch.
    @Test(arguments: [1, 4])
    func tf2onnxGlueFoldsForTheImportBatch(_ batch: Int) throws {
        let hidden = 2
        var rng = SeededFloats(seed: 5)
        let w = rng.floats(4 * hidden * 5)
        let r = rng.floats(4 * hidden * hidden)
        let b = rng.floats(8 * hidden)
        let dense = rng.floats(hidden)
        var model = B.model(
            nodes: [
                B.node("Transpose", ["window"], ["xt"], [B.attr("perm", ints: [1, 0, 2])]),
                B.node("Shape", ["window"], ["shape"]), B.node("Cast", ["shape"], ["s32"], [B.attr("to", int: 6)]),
                B.node("Slice", ["s32", "zero", "one", "zero"], ["batch"]),
                B.node("Concat", ["batch", "units"], ["packed"], [B.attr("axis", int: 0)]),
                B.node("Cast", ["packed"], ["p64"], [B.attr("to", int: 7)]),
                B.node("Expand", ["zeroF", "p64"], ["zeros"]), B.node("Unsqueeze", ["zeros", "zero"], ["state"]),
                B.node(
                    "LSTM", ["xt", "W", "R", "B", "", "state", "state"], ["Y", "", ""], name: "LSTM__33",
                    [B.attr("hidden_size", int: hidden)]),
                B.node("Squeeze", ["Y", "one"], ["y3"]), B.node("Slice", ["y3", "minus1", "big", "zero"], ["last"]),
                B.node("Squeeze", ["last", "zero"], ["h"]), B.node("MatMul", ["h", "dense"], ["m"]),
                B.node("Add", ["m", "bias"], ["a"]), B.node("Tanh", ["a"], ["out"]),
            ],
            inputs: [("window", [1, 7, 5])], outputs: ["out"],
            initializers: [
                B.tensor("W", [1, 4 * hidden, 5], w), B.tensor("R", [1, 4 * hidden, hidden], r),
                B.tensor("B", [1, 8 * hidden], b), B.tensor("dense", [hidden, 1], dense), B.tensor("bias", [1], [0.1]),
                B.tensor("zeroF", [], [0]), B.ints("zero", [0]), B.ints("one", [1]), B.ints("minus1", [-1]),
                B.ints("big", [Int(Int32.max)]), B.ints("units", [hidden]),
            ])
        var symbolic = Onnx_TensorShapeProto.Dimension()
        symbolic.dimParam = "unk__71"
        model.graph.input[0].type.tensorType.shape.dim[0] = symbolic
        let network = try ONNXImporter.load(try model.serializedBytes() as [UInt8], batch: batch)
        #expect(network.inputs[0].shape == [batch, 7, 5])
        #expect(network.outputs[0].shape == [batch, 1])
        let x = rng.floats(batch * 35).map { ($0 + 1) / 2 }
        let got = try network.run(["window": x])[0]
        for n in 0..<batch {
            // Each window alone, through the naive LSTM and Dense(tanh).
            let window = Array(x[(n * 35)..<((n + 1) * 35)])
            let lstm = NaiveLSTM.run(
                x: window, seq: 7, batch: 1, input: 5, hidden: hidden, w: w, r: r, b: b, reverse: [false], layout: 0,
                lengths: nil, h0: nil, c0: nil)
            let pre = zip(lstm.h, dense).reduce(0.1) { $0 + Double($1.0) * Double($1.1) }
            #expect(abs(got[n] - Float(tanh(pre))) < 1e-5, "window \(n)")
        }
    }
}

import FoundationEssentials
import Testing

@testable import InferenceKernels
@testable import ONNX

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite("ONNX ops against naive references on seeded random data")
struct ONNXOpTests {
    typealias B = ModelBuilder

    /// Conv (+ BatchNormalization) + activation in the exporters' patterns, on every kernel the
    /// Darknet engine picks (direct, depthwise, grouped, Winograd, panel, small GEMM, pointwise).
    static let convCases: [(c: Int, h: Int, f: Int, k: Int, s: Int, p: Int, g: Int, act: String)] = [
        (3, 17, 8, 3, 1, 1, 1, "silu"), (3, 20, 16, 3, 2, 1, 1, "relu"), (16, 24, 32, 3, 1, 1, 1, "silu"),
        (32, 21, 64, 3, 1, 1, 1, "leaky"), (64, 9, 128, 3, 2, 1, 1, "silu"), (24, 12, 24, 3, 1, 1, 24, "silu"),
        (16, 10, 32, 1, 1, 0, 1, "linear"), (32, 11, 16, 1, 1, 0, 2, "silu"), (8, 13, 96, 5, 1, 2, 1, "bn+silu"),
        (48, 14, 80, 1, 1, 0, 1, "bn+relu"), (16, 12, 32, 3, 1, 1, 1, "mish"), (8, 15, 16, 3, 2, 1, 1, "mish"),
    ]

    @Test(arguments: convCases)
    func convolution(_ t: (c: Int, h: Int, f: Int, k: Int, s: Int, p: Int, g: Int, act: String)) throws {
        var rng = SeededFloats(seed: UInt64(t.c * 1000 + t.f * 10 + t.k))
        let x = rng.floats(t.c * t.h * t.h)
        var weights = rng.floats(t.f * (t.c / t.g) * t.k * t.k)
        for i in weights.indices { weights[i] *= 0.3 }
        let bias = rng.floats(t.f)
        var nodes = [
            B.node(
                "Conv", ["x", "w", "b"], ["conv"],
                [
                    B.attr("kernel_shape", ints: [t.k, t.k]), B.attr("strides", ints: [t.s, t.s]),
                    B.attr("pads", ints: [t.p, t.p, t.p, t.p]), B.attr("group", int: t.g),
                ])
        ]
        var initializers = [B.tensor("w", [t.f, t.c / t.g, t.k, t.k], weights), B.tensor("b", [t.f], bias)]
        var (expected, oh, ow) = Naive.conv(
            x, c: t.c, h: t.h, w: t.h, weights: weights, bias: bias, filters: t.f, k: t.k, stride: t.s, pad: t.p,
            groups: t.g)
        var last = "conv"
        if t.act.hasPrefix("bn") {
            let gamma = rng.floats(t.f)
            let beta = rng.floats(t.f)
            let mean = rng.floats(t.f)
            let variance = rng.floats(t.f).map { abs($0) + 0.5 }
            initializers += [
                B.tensor("gamma", [t.f], gamma), B.tensor("beta", [t.f], beta), B.tensor("mean", [t.f], mean),
                B.tensor("var", [t.f], variance),
            ]
            nodes.append(B.node("BatchNormalization", ["conv", "gamma", "beta", "mean", "var"], ["bn"]))
            last = "bn"
            let plane = oh * ow
            for i in expected.indices {
                let c = i / plane
                expected[i] = Float(
                    (Double(expected[i]) - Double(mean[c])) / (Double(variance[c]) + 1e-5).squareRoot()
                        * Double(gamma[c]) + Double(beta[c]))
            }
        }
        switch t.act {
        case "silu", "bn+silu":
            nodes += [B.node("Sigmoid", [last], ["sig"]), B.node("Mul", [last, "sig"], ["y"])]
            expected = expected.map { $0 * Naive.sigmoid($0) }
        case "mish":
            nodes += [
                B.node("Softplus", [last], ["sp"]), B.node("Tanh", ["sp"], ["th"]), B.node("Mul", ["th", last], ["y"]),
            ]
            expected = expected.map { Float(Double($0) * tanh(log(1 + exp(Double($0))))) }
        case "relu", "bn+relu":
            nodes.append(B.node("Relu", [last], ["y"]))
            expected = expected.map { max($0, 0) }
        case "leaky":
            nodes.append(B.node("LeakyRelu", [last], ["y"], [B.attr("alpha", float: 0.1)]))
            expected = expected.map { $0 > 0 ? $0 : 0.1 * $0 }
        default:
            nodes.append(B.node("Identity", [last], ["y"]))
        }
        let model = B.model(
            nodes: nodes, inputs: [("x", [1, t.c, t.h, t.h])], outputs: ["y"], initializers: initializers)
        let network = try ONNXImporter.load(try model.serializedBytes() as [UInt8])
        #expect(network.outputs[0].shape == [1, t.f, oh, ow])
        if t.act != "linear" { #expect(network.convolutionSummary.fused == 1, "activation fused into the convolution") }
        #expect(network.stepCount == 1, "BN, activation and identity fold away")
        let y = try network.run(["x": x])[0]
        #expect(close(y, expected))
    }

    /// Element-wise ops with broadcasting, against a per-element reference.
    @Test(arguments: ["Add", "Sub", "Mul", "Div"])
    func broadcastBinary(_ op: String) throws {
        var rng = SeededFloats(seed: 7)
        let (aShape, bShape) = ([2, 3, 4, 5], [3, 1, 5])
        let a = rng.floats(120)
        let b = rng.floats(15).map { $0 + 2 }
        let model = B.model(
            nodes: [B.node(op, ["a", "b"], ["y"])], inputs: [("a", aShape)], outputs: ["y"],
            initializers: [B.tensor("b", bShape, b)])
        let y = try B.run(model, ["a": a])[0]
        let expected = Naive.indices(aShape).map { i -> Float in
            let x = Naive.broadcastRead(a, aShape, i)
            let z = Naive.broadcastRead(b, bShape, i)
            switch op {
            case "Add": return x + z
            case "Sub": return x - z
            case "Mul": return x * z
            default: return x / z
            }
        }
        #expect(close(y, expected))
    }

    @Test func unaryOps() throws {
        var rng = SeededFloats(seed: 11)
        let x = rng.floats(60).map { $0 * 4 }
        let cases: [(String, [Onnx_AttributeProto], (Float) -> Float)] = [
            ("Sigmoid", [], Naive.sigmoid), ("Relu", [], { max($0, 0) }), ("Tanh", [], { Float(tanh(Double($0))) }),
            ("LeakyRelu", [B.attr("alpha", float: 0.2)], { $0 >= 0 ? $0 : 0.2 * $0 }),
            ("Exp", [], { Float(exp(Double($0))) }),
        ]
        for (op, attrs, f) in cases {
            let model = B.model(nodes: [B.node(op, ["x"], ["y"], attrs)], inputs: [("x", [3, 4, 5])], outputs: ["y"])
            #expect(close(try B.run(model, ["x": x])[0], x.map(f)), "\(op)")
        }
    }

    @Test func concatSplitSliceTranspose() throws {
        var rng = SeededFloats(seed: 5)
        let x = rng.floats(2 * 6 * 4 * 3)
        let shape = [2, 6, 4, 3]
        let nodes = [
            B.node("Split", ["x", "sizes"], ["s0", "s1"], [B.attr("axis", int: 1)]),
            B.node("Concat", ["s1", "s0"], ["c"], [B.attr("axis", int: 1)]),
            B.node("Slice", ["c", "starts", "ends", "axes", "steps"], ["sl"]),
            B.node("Transpose", ["sl"], ["y"], [B.attr("perm", ints: [0, 2, 3, 1])]),
        ]
        let model = B.model(
            nodes: nodes, inputs: [("x", shape)], outputs: ["y", "s0"],
            initializers: [
                B.ints("sizes", [2, 4]), B.ints("starts", [5, 0]), B.ints("ends", [Int.min / 2, 3]),
                B.ints("axes", [1, 3]),
                B.ints("steps", [-2, 1]),
            ])
        let out = try B.run(model, ["x": x])
        // Naive: split [2 | 4] on axis 1, swap, then channels 5, 3, 1 and columns 0..<3 (all), then NCHW → NHWC.
        let reordered = Naive.indices([2, 6, 4, 3]).map { i -> Float in
            let c = i[1] < 4 ? i[1] + 2 : i[1] - 4
            return x[Naive.offset([i[0], c, i[2], i[3]], shape)]
        }
        let sliced = Naive.indices([2, 3, 4, 3]).map { i in
            reordered[Naive.offset([i[0], 5 - 2 * i[1], i[2], i[3]], shape)]
        }
        #expect(out[0] == Naive.transpose(sliced, [2, 3, 4, 3], [0, 2, 3, 1]))
        #expect(out[1] == Naive.indices([2, 2, 4, 3]).map { x[Naive.offset($0, shape)] })
    }

    @Test func softmaxReshapeMatMul() throws {
        var rng = SeededFloats(seed: 3)
        let x = rng.floats(2 * 4 * 6)
        let w = rng.floats(6 * 5)
        let nodes = [
            B.node("Reshape", ["x", "shape"], ["r"]),
            B.node("Softmax", ["r"], ["s"], [B.attr("axis", int: 1)]),
            B.node("MatMul", ["s", "w"], ["y"]),
        ]
        let model = B.model(
            nodes: nodes, inputs: [("x", [2, 24])], outputs: ["y"],
            initializers: [B.ints("shape", [2, 4, -1]), B.tensor("w", [6, 5], w)])
        let y = try B.run(model, ["x": x])[0]
        var s = x
        for b in 0..<2 {
            for j in 0..<6 {
                let column = (0..<4).map { x[b * 24 + $0 * 6 + j] }
                let m = column.max()!
                let e = column.map { exp(Double($0 - m)) }
                let total = e.reduce(0, +)
                for i in 0..<4 { s[b * 24 + i * 6 + j] = Float(e[i] / total) }
            }
        }
        var expected = [Float](repeating: 0, count: 2 * 4 * 5)
        for r in 0..<8 {
            for n in 0..<5 { expected[r * 5 + n] = (0..<6).reduce(0) { $0 + s[r * 6 + $1] * w[$1 * 5 + n] } }
        }
        #expect(close(y, expected))
    }

    @Test func maxPoolAndNearestResize() throws {
        var rng = SeededFloats(seed: 9)
        let (c, h, w) = (3, 7, 6)
        let x = rng.floats(c * h * w)
        let nodes = [
            B.node(
                "MaxPool", ["x"], ["p"],
                [
                    B.attr("kernel_shape", ints: [5, 5]), B.attr("pads", ints: [2, 2, 2, 2]),
                    B.attr("strides", ints: [1, 1]),
                ]),
            B.node(
                "Resize", ["p", "", "scales"], ["y"],
                [
                    B.attr("mode", string: "nearest"), B.attr("coordinate_transformation_mode", string: "asymmetric"),
                    B.attr("nearest_mode", string: "floor"),
                ]),
        ]
        let model = B.model(
            nodes: nodes, inputs: [("x", [1, c, h, w])], outputs: ["y"],
            initializers: [B.tensor("scales", [4], [1, 1, 2, 2])])
        let y = try B.run(model, ["x": x])[0]
        var pooled = x
        for ch in 0..<c {
            for i in 0..<h {
                for j in 0..<w {
                    var m = -Float.infinity
                    for a in max(0, i - 2)..<min(h, i + 3) {
                        for b in max(0, j - 2)..<min(w, j + 3) { m = max(m, x[(ch * h + a) * w + b]) }
                    }
                    pooled[(ch * h + i) * w + j] = m
                }
            }
        }
        let expected = Naive.indices([c, 2 * h, 2 * w]).map { i in pooled[(i[0] * h + i[1] / 2) * w + i[2] / 2] }
        #expect(y == expected)
    }

    /// The shape arithmetic YOLOv8's head exports (Shape → Gather → Add/Div → Slice ends) folds at import.
    @Test func shapeArithmeticFolds() throws {
        var rng = SeededFloats(seed: 2)
        let x = rng.floats(1 * 8 * 10)
        let nodes = [
            B.node("Shape", ["x"], ["shape"]),
            B.node("Gather", ["shape", "index"], ["dim"], [B.attr("axis", int: 0)]),
            B.node("Add", ["dim", "one"], ["dim1"]),
            B.node("Div", ["dim1", "three"], ["half"]),
            B.node("Slice", ["x", "zero", "half", "one"], ["y"]),
        ]
        var index = B.ints("index", [1])
        index.dims = []  // a scalar index, as the exporters write it
        let model = B.model(
            nodes: nodes, inputs: [("x", [1, 8, 10])], outputs: ["y"],
            initializers: [index, B.ints("one", [1]), B.ints("zero", [0]), B.ints("three", [3])])
        let network = try ONNXImporter.load(try model.serializedBytes() as [UInt8])
        #expect(network.outputs[0].shape == [1, 3, 10])  // (8 + 1) / 3 = 3 channels
        #expect(network.stepCount == 1)
        #expect(try network.run(["x": x])[0] == Array(x[0..<30]))
    }

    @Test(arguments: [(false, Float(1), Float(1)), (true, Float(0.5), Float(2))])
    func gemm(_ t: (transB: Bool, alpha: Float, beta: Float)) throws {
        var rng = SeededFloats(seed: 21)
        let (m, k, n) = (3, 7, 5)
        let a = rng.floats(m * k)
        let w = rng.floats(k * n)
        let c = rng.floats(n)
        // B as stored: [k, n], or [n, k] with transB.
        let stored = t.transB ? (0..<(n * k)).map { w[($0 % k) * n + $0 / k] } : w
        let model = B.model(
            nodes: [
                B.node(
                    "Gemm", ["a", "b", "c"], ["y"],
                    [
                        B.attr("transB", int: t.transB ? 1 : 0), B.attr("alpha", float: t.alpha),
                        B.attr("beta", float: t.beta),
                    ])
            ],
            inputs: [("a", [m, k])], outputs: ["y"],
            initializers: [B.tensor("b", t.transB ? [n, k] : [k, n], stored), B.tensor("c", [n], c)])
        let y = try B.run(model, ["a": a])[0]
        var expected = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                expected[i * n + j] = t.alpha * (0..<k).reduce(0) { $0 + a[i * k + $1] * w[$1 * n + j] } + t.beta * c[j]
            }
        }
        #expect(close(y, expected))
    }
}

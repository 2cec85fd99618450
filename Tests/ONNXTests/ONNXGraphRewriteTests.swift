import FoundationEssentials
import Testing

@testable import ONNX

@Suite("ONNX graphs the importer rewrites: residual adds, in-place split/concat, shared networks")
struct ONNXGraphRewriteTests {
    typealias B = ModelBuilder

    /// `Add(x, SiLU(conv(x)))`: Winograd and panel kernels add the residual as they store (one
    /// step; a skinny 1×1 with SiLU runs on panels too); the direct and small-GEMM (fewer than 8
    /// filters) kernels cannot, so an in-place add follows (two steps).
    @Test(arguments: [(16, 24, 3, 1), (96, 10, 1, 1), (32, 10, 1, 1), (7, 10, 1, 2), (3, 9, 3, 2)])
    func residualAddFuses(_ t: (c: Int, h: Int, k: Int, steps: Int)) throws {
        var rng = SeededFloats(seed: UInt64(t.c))
        let x = rng.floats(t.c * t.h * t.h)
        let w = rng.floats(t.c * t.c * t.k * t.k).map { $0 * 0.2 }
        let b = rng.floats(t.c)
        let p = t.k / 2
        let model = B.model(
            nodes: [
                B.node(
                    "Conv", ["x", "w", "b"], ["c"],
                    [B.attr("kernel_shape", ints: [t.k, t.k]), B.attr("pads", ints: [p, p, p, p])]),
                B.node("Sigmoid", ["c"], ["s"]), B.node("Mul", ["c", "s"], ["a"]), B.node("Add", ["x", "a"], ["y"]),
            ],
            inputs: [("x", [1, t.c, t.h, t.h])], outputs: ["y"],
            initializers: [B.tensor("w", [t.c, t.c, t.k, t.k], w), B.tensor("b", [t.c], b)])
        let network = try ONNXImporter.load(try model.serializedBytes() as [UInt8])
        #expect(network.stepCount == t.steps)
        let conv = Naive.conv(
            x, c: t.c, h: t.h, w: t.h, weights: w, bias: b, filters: t.c, k: t.k, stride: 1, pad: p, groups: 1
        ).values
        let expected = zip(x, conv).map { $0 + $1 * Naive.sigmoid($1) }
        #expect(close(try network.run(["x": x])[0], expected))
    }

    /// YOLOv8's C2f pattern: conv → Split → conv on one part → Concat of the parts and the conv.
    /// The split and the concat run in place (no steps), with the same values as copies.
    @Test func splitAndConcatRunInPlace() throws {
        var rng = SeededFloats(seed: 8)
        let (c, h) = (4, 6)
        let x = rng.floats(c * h * h)
        let w1 = rng.floats(8 * c)
        let b1 = rng.floats(8)
        let w2 = rng.floats(4 * 4 * 9)
        let b2 = rng.floats(4)
        let model = B.model(
            nodes: [
                B.node("Conv", ["x", "w1", "b1"], ["cv1"], [B.attr("kernel_shape", ints: [1, 1])]),
                B.node("Split", ["cv1", "halves"], ["a", "b"], [B.attr("axis", int: 1)]),
                B.node(
                    "Conv", ["b", "w2", "b2"], ["m"],
                    [B.attr("kernel_shape", ints: [3, 3]), B.attr("pads", ints: [1, 1, 1, 1])]),
                B.node("Concat", ["a", "b", "m"], ["y"], [B.attr("axis", int: 1)]),
            ],
            inputs: [("x", [1, c, h, h])], outputs: ["y", "a"],
            initializers: [
                B.tensor("w1", [8, c, 1, 1], w1), B.tensor("b1", [8], b1), B.tensor("w2", [4, 4, 3, 3], w2),
                B.tensor("b2", [4], b2), B.ints("halves", [4, 4]),
            ])
        let network = try ONNXImporter.load(try model.serializedBytes() as [UInt8])
        #expect(network.stepCount == 2, "only the two convolutions run")
        let out = try network.run(["x": x])
        let cv1 = Naive.conv(x, c: c, h: h, w: h, weights: w1, bias: b1, filters: 8, k: 1, stride: 1, pad: 0, groups: 1)
            .values
        let plane = h * h
        let m = Naive.conv(
            Array(cv1[(4 * plane)...]), c: 4, h: h, w: h, weights: w2, bias: b2, filters: 4, k: 3, stride: 1, pad: 1,
            groups: 1
        ).values
        #expect(close(out[0], cv1 + m))
        #expect(close(out[1], Array(cv1[..<(4 * plane)])))
    }

    /// One loaded network serves concurrent calls (each with its own scratch) with the serial answers.
    @Test func concurrentCallsShareTheNetwork() async throws {
        var rng = SeededFloats(seed: 4)
        let w = rng.floats(8 * 3 * 9)
        let bias = rng.floats(8)
        let model = B.model(
            nodes: [
                B.node(
                    "Conv", ["x", "w", "b"], ["c"],
                    [B.attr("kernel_shape", ints: [3, 3]), B.attr("pads", ints: [1, 1, 1, 1])]),
                B.node("Sigmoid", ["c"], ["s"]), B.node("Mul", ["c", "s"], ["y"]),
            ],
            inputs: [("x", [1, 3, 16, 16])], outputs: ["y"],
            initializers: [B.tensor("w", [8, 3, 3, 3], w), B.tensor("b", [8], bias)])
        let network = try ONNXImporter.load(try model.serializedBytes() as [UInt8])
        let inputs = (0..<6).map { _ in rng.floats(3 * 16 * 16) }
        let serial = try inputs.map { try network.run(["x": $0])[0] }
        let parallel = try await withThrowingTaskGroup(of: (Int, [Float]).self) { group in
            for (i, x) in inputs.enumerated() { group.addTask { (i, try network.run(["x": x])[0]) } }
            var results = [[Float]](repeating: [], count: inputs.count)
            for try await (i, y) in group { results[i] = y }
            return results
        }
        #expect(parallel == serial)
        #expect(serial[0] != serial[1])
    }
}

import FoundationEssentials
import SwiftProtobuf
import Testing

@testable import ONNX

@Suite("The importer refuses hostile or unsupported models with a clear error")
struct ONNXRefusalTests {
    typealias B = ModelBuilder

    /// A valid two-node model: y = Relu(x + w).
    static func valid(opset: Int = 17) -> Onnx_ModelProto {
        B.model(
            nodes: [B.node("Add", ["x", "w"], ["s"], name: "add0"), B.node("Relu", ["s"], ["y"], name: "relu0")],
            inputs: [("x", [1, 4])], outputs: ["y"], initializers: [B.tensor("w", [1, 4], [1, 2, 3, 4])], opset: opset)
    }

    @Test func validModelLoadsAndRuns() throws {
        #expect(try B.refusal(Self.valid()) == nil)
        #expect(try B.run(Self.valid(), ["x": [-2, -3, 0, 1]])[0] == [0, 0, 3, 5])
    }

    @Test func unknownOpNamesNodeOpAndOpset() throws {
        var m = Self.valid()
        m.graph.node[1].opType = "GridSample"
        let message = try #require(try B.refusal(m))
        #expect(message.contains("relu0") && message.contains("GridSample") && message.contains("opset 17"))
    }

    @Test(arguments: [9, 10, 18])
    func unsupportedOpset(_ opset: Int) throws {
        let message = try #require(try B.refusal(Self.valid(opset: opset)))
        #expect(message.contains("opset \(opset) is not supported"))
    }

    @Test func cyclicGraph() throws {
        var m = Self.valid()
        m.graph.node[0].input = ["x", "y"]  // add0 reads relu0's output, which reads add0's
        m.graph.initializer = []
        let message = try #require(try B.refusal(m))
        #expect(message.contains("cycle"))
    }

    @Test func danglingInput() throws {
        var m = Self.valid()
        m.graph.node[1].input = ["nowhere"]
        let message = try #require(try B.refusal(m))
        #expect(message.contains("relu0") && message.contains("nowhere"))
    }

    @Test func externalData() throws {
        var m = Self.valid()
        m.graph.initializer[0].floatData = []
        m.graph.initializer[0].dataLocation = .external
        var entry = Onnx_StringStringEntryProto()
        entry.key = "location"
        entry.value = "weights.bin"
        m.graph.initializer[0].externalData = [entry]
        let message = try #require(try B.refusal(m))
        #expect(message.contains("external"))
    }

    @Test func hugeAndNegativeDims() throws {
        var huge = Self.valid()
        huge.graph.initializer[0].dims = [1 << 20, 1 << 20]
        #expect(try #require(try B.refusal(huge)).contains("2^31"))
        var negative = Self.valid()
        negative.graph.initializer[0].dims = [-1, 4]
        #expect(try #require(try B.refusal(negative)).contains("negative"))
        var input = Self.valid()
        input.graph.input[0] = B.valueInfo("x", [1 << 30, 1 << 30])
        #expect(try B.refusal(input) != nil)
    }

    @Test func dataSizeMismatch() throws {
        var m = Self.valid()
        m.graph.initializer[0].floatData = []
        m.graph.initializer[0].rawData = Data(repeating: 0, count: 12)  // 3 floats for 4 elements
        let message = try #require(try B.refusal(m))
        #expect(message.contains("corrupt"))
    }

    /// Every prefix of a real model's bytes is refused (or, for the rare prefix that is itself a
    /// valid message, imported) without a crash.
    @Test func truncatedBytes() throws {
        let bytes: [UInt8] = try Self.valid().serializedBytes()
        for n in 0..<bytes.count {
            do {
                _ = try ONNXImporter.load(Array(bytes[0..<n]))
            } catch let error as ONNXError {
                #expect(!error.message.isEmpty)
            }
        }
        let garbage = (0..<200).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        #expect(throws: ONNXError.self) { try ONNXImporter.load(garbage) }
    }

    /// Seeded byte flips of a model with a convolution, a split and a resize: every mutant is
    /// imported or refused with an ONNXError (never a crash), and what imports also runs.
    @Test func flippedBytesNeverCrash() throws {
        let model = B.model(
            nodes: [
                B.node(
                    "Conv", ["x", "w", "b"], ["c"],
                    [B.attr("kernel_shape", ints: [3, 3]), B.attr("pads", ints: [1, 1, 1, 1])]),
                B.node("Split", ["c", "halves"], ["p", "q"], [B.attr("axis", int: 1)]),
                B.node("Resize", ["p", "", "scales"], ["r"], [B.attr("mode", string: "nearest")]),
                B.node("Concat", ["q", "q"], ["y"], [B.attr("axis", int: 1)]),
            ],
            inputs: [("x", [1, 2, 6, 6])], outputs: ["y", "r"],
            initializers: [
                B.tensor("w", [4, 2, 3, 3], [Float](repeating: 0.1, count: 72)), B.tensor("b", [4], [0, 1, 2, 3]),
                B.ints("halves", [2, 2]), B.tensor("scales", [4], [1, 1, 2, 2]),
            ])
        let bytes: [UInt8] = try model.serializedBytes()
        var rng = SeededFloats(seed: 99)
        var loaded = 0
        for _ in 0..<3000 {
            var mutant = bytes
            for _ in 0..<(1 + Int((rng.next() + 1) * 2)) {
                let i = min(mutant.count - 1, Int((rng.next() + 1) / 2 * Float(mutant.count)))
                mutant[i] = UInt8(truncatingIfNeeded: Int((rng.next() + 1) * 128))
            }
            do {
                let network = try ONNXImporter.load(mutant)
                loaded += 1
                let feeds = Dictionary(
                    uniqueKeysWithValues: network.inputs.map {
                        ($0.name, [Float](repeating: 0.5, count: $0.shape.reduce(1, *)))
                    })
                _ = try network.run(feeds)
            } catch is ONNXError {
                continue
            }
        }
        #expect(loaded > 0, "some mutants (e.g. changed weights) still import")
    }

    @Test func wrongInputSizeAtRun() throws {
        let network = try ONNXImporter.load(try Self.valid().serializedBytes() as [UInt8])
        #expect(throws: ONNXError.self) { try network.run(["x": [1, 2, 3]]) }
        #expect(throws: ONNXError.self) { try network.run(["z": [1, 2, 3, 4]]) }
    }
}

@Suite("Small files that would need huge memory are refused at import")
struct ONNXMemoryBombTests {
    typealias B = ModelBuilder

    /// Two small constants that broadcast to 2^30 elements: refused (or not folded) instead of allocated.
    @Test func broadcastBomb() throws {
        let m = B.model(
            nodes: [B.node("Add", ["a", "b"], ["s"], name: "bomb"), B.node("Add", ["x", "s"], ["y"])],
            inputs: [("x", [1, 1])], outputs: ["y"],
            initializers: [
                B.tensor("a", [1 << 15, 1], [Float](repeating: 1, count: 1 << 15)),
                B.tensor("b", [1, 1 << 15], [Float](repeating: 1, count: 1 << 15)),
            ])
        let message = try #require(try B.refusal(m))
        #expect(message.contains("GiB"))
    }

    /// A chain of 64× resizes from a small input.
    @Test func resizeChainBomb() throws {
        var nodes: [Onnx_NodeProto] = []
        var last = "x"
        for i in 0..<4 {
            nodes.append(B.node("Resize", [last, "", "scales"], ["r\(i)"], [B.attr("mode", string: "nearest")]))
            last = "r\(i)"
        }
        nodes.append(B.node("Identity", [last], ["y"]))
        let m = B.model(
            nodes: nodes, inputs: [("x", [1, 1, 8, 8])], outputs: ["y"],
            initializers: [B.tensor("scales", [4], [1, 1, 64, 64])])
        #expect(try B.refusal(m) != nil)
    }
}

import FoundationEssentials
import SwiftProtobuf
import Testing

@testable import ONNX

@Suite("LSTM graphs the engine cannot run, and hostile recurrent files, are refused by name")
struct ONNXLSTMRefusalTests {
    typealias B = ModelBuilder

    /// tf2onnx's export of the original stack's Keras LSTM (scripts/keras-lstm-onnx.py).
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Integration/fixtures/keras-lstm/model.onnx").standardized

    /// x [5, 1, 3] → LSTM (hidden 2) → Y_h.
    static func lstm(_ attributes: [Onnx_AttributeProto] = [], extraInputs: [String] = [], opset: Int = 13)
        -> Onnx_ModelProto
    {
        var rng = SeededFloats(seed: 3)
        return B.model(
            nodes: [B.node("LSTM", ["x", "W", "R", "B"] + extraInputs, ["", "h"], name: "the_lstm", attributes)],
            inputs: [("x", [5, 1, 3])], outputs: ["h"],
            initializers: [
                B.tensor("W", [1, 8, 3], rng.floats(24)), B.tensor("R", [1, 8, 2], rng.floats(16)),
                B.tensor("B", [1, 16], rng.floats(16)), B.tensor("P", [1, 6], [0, 0, 0, 0, 0, 0.5]),
                B.tensor("Pzero", [1, 6], [Float](repeating: 0, count: 6)), B.ints("lens", [9]),
            ], opset: opset)
    }

    @Test func theDefaultsLoad() throws {
        #expect(try B.refusal(Self.lstm([B.attr("hidden_size", int: 2)])) == nil)
        // All-zero peepholes are the same cell.
        #expect(try B.refusal(Self.lstm(extraInputs: ["", "", "", "Pzero"])) == nil)
        #expect(try B.refusal(Self.lstm(opset: 11)) == nil)
    }

    @Test func refusalsNameTheNodeTheOpAndTheOpset() throws {
        var activations = Onnx_AttributeProto()
        activations.name = "activations"
        activations.type = .strings
        activations.strings = ["HardSigmoid", "Tanh", "Tanh"].map { Data($0.utf8) }
        let refused: [(Onnx_ModelProto, String)] = [
            (Self.lstm([activations]), "HardSigmoid"),
            (Self.lstm([B.attr("clip", float: 3)]), "clip"),
            (Self.lstm([B.attr("input_forget", int: 1)]), "input_forget"),
            (Self.lstm(extraInputs: ["", "", "", "P"]), "peephole"),
            (Self.lstm([B.attr("hidden_size", int: 3)]), "hidden_size 3"),
            (Self.lstm([B.attr("direction", string: "sideways")]), "sideways"),
            (Self.lstm([B.attr("direction", string: "bidirectional")]), "W has shape [1, 8, 3]"),
            (Self.lstm(extraInputs: ["lens"]), "sequence_lens [9]"),
            (Self.lstm(extraInputs: ["", "x"]), "initial_h has shape [5, 1, 3]"),
        ]
        for (model, mention) in refused {
            let message = try #require(try B.refusal(model), "\(mention) was imported")
            #expect(
                message.contains("the_lstm") && message.contains("LSTM") && message.contains("opset 13"), "\(message)")
            #expect(message.contains(mention), "\(message)")
        }
    }

    @Test func weightsComputedAtRunTimeAreRefused() throws {
        var model = Self.lstm()
        model.graph.initializer.removeFirst()
        model.graph.input.append(B.valueInfo("W", [1, 8, 3]))
        let message = try #require(try B.refusal(model))
        #expect(message.contains("the_lstm") && message.contains("W (input 2) must be a constant"))
    }

    /// A declared sequence or batch so large its buffers would pass the per-call limit.
    @Test func hugeDeclaredDimensions() throws {
        var model = Self.lstm()
        model.graph.input[0] = B.valueInfo("x", [1 << 20, 1 << 11, 3])
        let message = try #require(try B.refusal(model))
        #expect(message.contains("GiB") || message.contains("2^31"))
    }

    /// ConstantOfShape each 2^24 elements (allowed alone), a hundred times: the importer's
    /// folded constants are bounded in all, so a 4 KB file cannot take gigabytes.
    @Test func foldedConstantsAreBoundedInAll() throws {
        let nodes = (0..<100).map { i in B.node("ConstantOfShape", ["big"], ["c\(i)"], name: "fill\(i)") }
        let model = B.model(
            nodes: nodes + [B.node("Relu", ["x"], ["y"])], inputs: [("x", [1, 4])], outputs: ["y"],
            initializers: [B.ints("big", [1 << 24])])
        let message = try #require(try B.refusal(model))
        #expect(message.contains("elements in all") && message.contains("fill"))
    }

    @Test func externalDataInAConstantNode() throws {
        var value = B.tensor("v", [1, 4], [])
        value.dataLocation = .external
        var entry = Onnx_StringStringEntryProto()
        entry.key = "location"
        entry.value = "../../etc/passwd"
        value.externalData = [entry]
        var attribute = Onnx_AttributeProto()
        attribute.name = "value"
        attribute.type = .tensor
        attribute.t = value
        let model = B.model(
            nodes: [B.node("Constant", [], ["w"], name: "const0", [attribute]), B.node("Add", ["x", "w"], ["y"])],
            inputs: [("x", [1, 4])], outputs: ["y"])
        let message = try #require(try B.refusal(model))
        #expect(message.contains("external") && message.contains("const0"))
    }

    @Test func wrongOpsetOfARecurrentModel() throws {
        let message = try #require(try B.refusal(Self.lstm(opset: 7)))
        #expect(message.contains("opset 7 is not supported"))
    }

    /// Every prefix of the real tf2onnx export is refused with an ONNXError or imported (never a
    /// crash), and what imports also runs.
    @Test func truncatedTF2ONNXExport() throws {
        let bytes = [UInt8](try Data(contentsOf: Self.fixture))
        #expect(try ONNXImporter.load(bytes).outputs[0].shape == [1, 1])
        var refused = 0
        for n in 0..<bytes.count {
            do {
                let network = try ONNXImporter.load(Array(bytes[0..<n]))
                let feeds = Dictionary(
                    uniqueKeysWithValues: network.inputs.map {
                        ($0.name, [Float](repeating: 0.5, count: $0.shape.reduce(1, *)))
                    })
                _ = try network.run(feeds)
            } catch let error as ONNXError {
                #expect(!error.message.isEmpty)
                refused += 1
            }
        }
        #expect(refused > bytes.count / 2)
    }
}

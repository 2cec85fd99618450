import Foundation
import Testing

@testable import Inference
@testable import ONNX

/// Artifact bytes copied into page-aligned memory, as a mapping would hold them; keeps it alive.
final class AlignedArtifact: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let count: Int

    init(_ bytes: [UInt8]) {
        count = bytes.count
        base = .allocate(byteCount: max(1, count), alignment: 4096)
        bytes.withUnsafeBytes { base.copyMemory(from: $0.baseAddress!, byteCount: count) }
    }

    deinit { base.deallocate() }

    func load() throws -> ONNXArtifact.Loaded {
        try ONNXArtifact.load(base, count: count, owner: self)
    }
}

/// Runs `body` on a thread of its own instead of Swift concurrency's global executor (on Linux
/// the Dispatch global queues, as wide as the 2 cores), so a long synchronous import or forward of
/// yolov8n does not starve other suites' tasks in the same process (MemoryBudgetTests waits 10 s).
func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { c in
        Thread { c.resume(with: Result { try body() }) }.start()
    }
}

/// The shared test models (../shared relative to the repository).
enum SharedModels {
    static func bytes(_ relative: String) throws -> [UInt8] {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }  // Tests/ONNXTests/<file> -> parent of the repository
        let path = url.appendingPathComponent("shared").appendingPathComponent(relative).path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ONNXError(.invalidInput, "missing test data \(path)")
        }
        return [UInt8](data)
    }
}

@Suite("ONNX compiled artifacts: the imported graph mapped, the same bits, safe refusals", .serialized)
struct ONNXArtifactTests {
    typealias B = ModelBuilder

    /// Runs `source` and the network its artifact loads on the same inputs: every output must
    /// be bit-identical, and the artifact's weights views of its memory.
    func expectSameBits(_ bytes: [UInt8], feeds: [String: [Float]]) throws {
        let source = try ONNXImporter.load(bytes)
        let artifact = AlignedArtifact(try ONNXArtifact.compile(bytes))
        let loaded = try artifact.load()
        let mapped = loaded.network
        #expect(mapped.stepCount == source.stepCount)
        #expect(mapped.inputs.map(\.description) == source.inputs.map(\.description))
        #expect(mapped.outputs.map(\.description) == source.outputs.map(\.description))
        #expect(mapped.opCounts.map(\.op) == source.opCounts.map(\.op))
        if source.convolutionSummary.count > 0 { #expect(mapped.isMapped && !source.isMapped) }
        let want = try source.run(feeds)
        let got = try mapped.run(feeds)
        #expect(got.count == want.count)
        for (g, w) in zip(got, want) {
            #expect(g.count == w.count && !g.isEmpty)
            #expect(g.map(\.bitPattern) == w.map(\.bitPattern))
        }
        #expect(loaded.metadata == (try ONNXModelInfo.metadata(bytes)))
    }

    /// YOLOv8n (Ultralytics export, random weights): Winograd, panel, direct and depthwise
    /// convolutions with fused SiLU and residuals, in-place split/concat, max pools, resizes,
    /// the DFL head's softmax and transposes, and the constant anchors.
    @Test func yolov8nAnswersBitForBitLikeTheSource() async throws {
        let bytes = try SharedModels.bytes("data/models/onnx/yolov8n.onnx")
        var rng = SeededFloats(seed: 18)
        let feeds = ["images": rng.floats(3 * 640 * 640).map { ($0 + 1) / 2 }]
        let (source, loaded) = try await offThePool {
            (try ONNXImporter.load(bytes), try AlignedArtifact(try ONNXArtifact.compile(bytes)).load())
        }
        let mapped = loaded.network
        #expect(mapped.stepCount == source.stepCount && mapped.convolutionSummary == source.convolutionSummary)
        #expect(mapped.outputs.map(\.description) == source.outputs.map(\.description))
        #expect(mapped.isMapped && !source.isMapped)
        let (want, got) = try await offThePool { (try source.run(feeds), try mapped.run(feeds)) }
        #expect(want.count == 1 && got.count == 1 && want[0].count == 84 * 8400)
        #expect(got[0].map(\.bitPattern) == want[0].map(\.bitPattern))
        #expect(loaded.metadata == (try ONNXModelInfo.metadata(bytes)), "the exporter's metadata travels along")
        #expect(loaded.metadata["names"] != nil)
    }

    /// A graph with every other kind of step: a batch norm that cannot fold (channel affine),
    /// LeakyRelu, a residual add after a kernel that cannot add as it stores, max pool, nearest
    /// resize, slice, transpose, softmax, matmul, Gemm and a float constant.
    @Test func everyStepKindAnswersBitForBitLikeTheSource() throws {
        var rng = SeededFloats(seed: 7)
        let (c, h) = (3, 8)
        let x = rng.floats(c * h * h)
        let w = rng.floats(c * c * 9).map { $0 * 0.3 }
        let bias = rng.floats(c)
        let bn = (0..<4).map { i in rng.floats(c).map { i == 3 ? abs($0) + 0.5 : $0 } }
        let nodes = [
            B.node("BatchNormalization", ["x", "g", "be", "m", "v"], ["n"]),
            B.node("LeakyRelu", ["n"], ["l"], [B.attr("alpha", float: 0.1)]),
            B.node(
                "Conv", ["l", "w", "b"], ["cv"],
                [B.attr("kernel_shape", ints: [3, 3]), B.attr("pads", ints: [1, 1, 1, 1])]),
            B.node("Add", ["cv", "l"], ["r"]),
            B.node(
                "MaxPool", ["r"], ["p"], [B.attr("kernel_shape", ints: [2, 2]), B.attr("strides", ints: [2, 2])]),
            B.node(
                "Resize", ["p", "", "scales"], ["up"],
                [
                    B.attr("mode", string: "nearest"), B.attr("coordinate_transformation_mode", string: "asymmetric"),
                    B.attr("nearest_mode", string: "floor"),
                ]),
            B.node("Mul", ["up", "k"], ["mk"]),
            B.node("Transpose", ["mk"], ["t"], [B.attr("perm", ints: [0, 2, 3, 1])]),
            B.node("Reshape", ["t", "shape"], ["flat"]),
            B.node("Softmax", ["flat"], ["s"], [B.attr("axis", int: 1)]),
            B.node("Gemm", ["s", "gw", "gb"], ["y"], [B.attr("transB", int: 1)]),
        ]
        let model = B.model(
            nodes: nodes, inputs: [("x", [1, c, h, h])], outputs: ["y", "p"],
            initializers: [
                B.tensor("g", [c], bn[0]), B.tensor("be", [c], bn[1]), B.tensor("m", [c], bn[2]),
                B.tensor("v", [c], bn[3]), B.tensor("w", [c, c, 3, 3], w), B.tensor("b", [c], bias),
                B.tensor("scales", [4], [1, 1, 2, 2]), B.tensor("k", [1, c, 1, 1], rng.floats(c)),
                B.ints("shape", [h * h, c]), B.tensor("gw", [5, c], rng.floats(5 * c)),
                B.tensor("gb", [5], rng.floats(5)),
            ])
        try expectSameBits(try model.serializedBytes(), feeds: ["x": x])
    }

    /// A bidirectional LSTM with its states as outputs (the stock regressors' op).
    @Test func lstmAnswersBitForBitLikeTheSource() throws {
        var rng = SeededFloats(seed: 5)
        let (seq, batch, input, hidden) = (4, 2, 3, 5)
        let node = B.node(
            "LSTM", ["x", "W", "R", "B"], ["Y", "Y_h", "Y_c"], name: "lstm",
            [B.attr("hidden_size", int: hidden), B.attr("direction", string: "bidirectional")])
        let model = B.model(
            nodes: [node], inputs: [("x", [seq, batch, input])], outputs: ["Y", "Y_h", "Y_c"],
            initializers: [
                B.tensor("W", [2, 4 * hidden, input], rng.floats(8 * hidden * input)),
                B.tensor("R", [2, 4 * hidden, hidden], rng.floats(8 * hidden * hidden)),
                B.tensor("B", [2, 8 * hidden], rng.floats(16 * hidden)),
            ])
        try expectSameBits(try model.serializedBytes(), feeds: ["x": rng.floats(seq * batch * input)])
    }

    /// A small conv graph's bytes and network, for the refusal tests.
    static func small() throws -> (bytes: [UInt8], network: ONNXNetwork) {
        var rng = SeededFloats(seed: 2)
        let model = B.model(
            nodes: [B.node("Conv", ["x", "w"], ["y"], [B.attr("kernel_shape", ints: [1, 1])])],
            inputs: [("x", [1, 4, 5, 5])], outputs: ["y"], initializers: [B.tensor("w", [8, 4, 1, 1], rng.floats(32))])
        let bytes: [UInt8] = try model.serializedBytes()
        return (bytes, try ONNXImporter.load(bytes))
    }

    func refusal(_ bytes: [UInt8]) -> ONNXError? {
        do {
            _ = try AlignedArtifact(bytes).load()
            return nil
        } catch {
            return error as? ONNXError
        }
    }

    @Test func anotherCPUOrFormatVersionIsIncompatible() throws {
        let network = try Self.small().network
        let foreign = ArtifactTarget(isa: "riscv64+v", panelRows: 4, panelColumns: 16, winogradGroup: 8)
        let a = refusal(try ONNXArtifact.write(network, target: foreign))
        #expect(a?.code == .incompatibleArtifact && a?.message.contains("riscv64+v") == true)
        let b = refusal(try ONNXArtifact.write(network, version: ArtifactContainer.formatVersion + 1))
        #expect(b?.code == .incompatibleArtifact && b?.message.contains("format version") == true)
    }

    @Test func truncatedOrCorruptArtifactsAreRefused() throws {
        let bytes = try ONNXArtifact.write(try Self.small().network)
        let truncated = refusal(Array(bytes.dropLast(4096)))
        #expect(truncated?.code == .invalidModel && truncated?.message.contains("truncated") == true)
        #expect(refusal(Array(bytes.prefix(20)))?.code == .invalidModel)
        var garbled = bytes
        garbled[30] = UInt8(ascii: "}")  // inside the header JSON
        #expect(refusal(garbled)?.code == .invalidModel)
        var noMagic = bytes
        noMagic[0] = 0
        #expect(refusal(noMagic)?.message.contains("magic") == true)
    }

    /// `bytes` with its header JSON text rewritten by `edit` (the data moved to the new page boundary).
    func rewritingHeader(_ bytes: [UInt8], _ edit: (String) -> String) throws -> [UInt8] {
        let (_, dataStart) = try ArtifactContainer.readHeader(bytes, count: bytes.count)
        let length = (16..<24).reduce(0) { $0 | Int(bytes[$1]) << (8 * ($1 - 16)) }
        let json = Array(edit(String(decoding: bytes[24..<(24 + length)], as: UTF8.self)).utf8)
        var out = Array(bytes[0..<16])
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out += $0 }
        out += json
        out += [UInt8](repeating: 0, count: (4096 - out.count % 4096) % 4096)
        return out + bytes[dataStart...]
    }

    /// A header whose steps would read or write outside their buffers is refused, not run, even
    /// though the container around it is sound (as a manifest naming those bytes would let through).
    @Test func stepsOutsideTheirBuffersAreRefused() throws {
        var rng = SeededFloats(seed: 4)
        let model = B.model(
            nodes: [
                B.node("Sigmoid", ["x"], ["s"]),
                B.node("Slice", ["s", "starts", "ends", "axes"], ["y"]),
            ],
            inputs: [("x", [1, 3, 5, 5])], outputs: ["y"],
            initializers: [B.ints("starts", [1]), B.ints("ends", [4]), B.ints("axes", [3])])
        let network = try ONNXImporter.load(try model.serializedBytes())
        let bytes = try ONNXArtifact.write(network)
        // Unchanged, it loads and answers like the source.
        let x = rng.floats(75)
        #expect(
            try AlignedArtifact(try rewritingHeader(bytes) { $0 }).load().network.run(["x": x]) == network.run(["x": x])
        )
        let header = String(decoding: bytes[24..<(24 + 4000)], as: UTF8.self)
        #expect(header.contains("\"count\":75,\"fn\":\"sigmoid\"") && header.contains("\"starts\":[0,0,0,1]"))
        let tooLong = refusal(try rewritingHeader(bytes) { $0.replacing("\"count\":75,", with: "\"count\":7500,") })
        #expect(tooLong?.code == .invalidModel && tooLong?.message.contains("unary") == true)
        let outside = refusal(
            try rewritingHeader(bytes) { $0.replacing("\"starts\":[0,0,0,1]", with: "\"starts\":[0,0,0,4]") })
        #expect(outside?.code == .invalidModel && outside?.message.contains("slice") == true)
        let noBuffer = refusal(try rewritingHeader(bytes) { $0.replacing("\"count\":75,", with: "\"count\":-1,") })
        #expect(noBuffer?.code == .invalidModel)
    }

    /// A Darknet artifact is never read as an ONNX graph, nor an ONNX one as a Darknet network.
    @Test func darknetAndONNXArtifactsAreNotInterchangeable() throws {
        let cfg =
            "[net]\nwidth=5\nheight=5\nchannels=4\n[convolutional]\nfilters=8\nsize=1\nstride=1\npad=0\nactivation=linear\n"
        let config = try DarknetConfig(text: cfg)
        var rng = SeededFloats(seed: 3)
        let layer = try (config.layers[0] as! ConvolutionalLayer).loadingWeights(rng.floats(8 + 32))
        let darknet = try DarknetArtifact.write(cfg: cfg, layers: [layer])
        let asONNX = refusal(darknet)
        #expect(asONNX?.code == .invalidModel && asONNX?.message.contains("darknet-yolo") == true)
        let onnx = AlignedArtifact(try ONNXArtifact.write(try Self.small().network))
        #expect {
            _ = try DarknetArtifact.load(onnx.base, count: onnx.count, owner: onnx)
        } throws: { ($0 as? InferenceError)?.code == .invalidModel && "\($0)".contains("onnx-graph") }
    }
}

import Foundation
import Testing

@testable import Functions
@testable import Inference
@testable import ONNX
@testable import ObjectStore

/// A file repository in a temporary folder holding yolov8n.onnx as an `onnx` version 1, published
/// the way `mscr publish --no-compile` does; `compile` adds an artifact as `mscr compile` does.
final class ONNXArtifactFixture {
    let root: String
    let repo: ModelRepository
    let model = "yolov8n"
    let onnx: [UInt8]

    init(onnx: [UInt8]? = nil) throws {
        root = NSTemporaryDirectory() + "mscr-onnx-artifact-\(UUID().uuidString)"
        repo = ModelRepository(store: FileObjectStore(root: root))
        self.onnx = try onnx ?? DetectShared.bytes("data/models/onnx/yolov8n.onnx")
        try repo.publish(model: model, version: 1, format: "onnx", files: ["model.onnx": self.onnx])
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    func compile(_ artifact: [UInt8]) throws {
        try repo.addFile(
            model: model, version: 1, name: DarknetModelLoader.artifactName, bytes: artifact, chunked: true)
    }

    var artifactPath: String { root + "/\(model)/1/\(DarknetModelLoader.artifactName)" }

    func load() throws -> ONNXModelLoader.Loaded {
        try ONNXModelLoader.load(model: try repo.resolve(model: model, version: "1"), policy: ArtifactPolicy())
    }
}

@Suite("ONNX compiled artifacts through the loader: mapped in place, same answers, safe fallbacks", .serialized)
struct ONNXCompiledArtifactTests {
    static let image: [Float] = (0..<(3 * 640 * 640)).map { Float(($0 * 7919) % 1000) / 1000 }

    /// The two networks' outputs must be the same bits.
    func expectSameOutputs(_ a: ONNXNetwork, _ b: ONNXNetwork) throws {
        let x = try a.run(["images": Self.image])
        let y = try b.run(["images": Self.image])
        #expect(x.count == 1 && y.count == 1 && x[0].count == 84 * 8400)
        #expect(x[0].map(\.bitPattern) == y[0].map(\.bitPattern))
    }

    @Test func theArtifactIsMappedInPlaceAndAnswersLikeModelONNX() throws {
        let fixture = try ONNXArtifactFixture()
        let sources = try fixture.load()
        #expect(sources.source == .sources && !sources.network.isMapped && sources.fallbackReason == nil)
        try fixture.compile(try ONNXArtifact.compile(fixture.onnx))
        let mapped = try fixture.load()
        #expect(mapped.source == .artifact && mapped.network.isMapped && mapped.fallbackReason == nil)
        #expect(mapped.metadata == sources.metadata && mapped.metadata["names"] != nil)
        try expectSameOutputs(sources.network, mapped.network)
        let version = try fixture.repo.resolve(model: fixture.model, version: "1")
        #expect(try version.mapVerified(DarknetModelLoader.artifactName).bytes.isFileBacked)
        // MSCR_ARTIFACT=off imports model.onnx.
        let off = try ONNXModelLoader.load(model: version, policy: ArtifactPolicy(useArtifact: false))
        #expect(off.source == .sources && off.fallbackReason == "MSCR_ARTIFACT=off")
    }

    /// `artifact` replaced by each bad variant: the loader says why and model.onnx answers.
    func expectFallback(_ reason: String, _ make: (ONNXArtifactFixture, [UInt8]) throws -> Void) throws {
        let fixture = try ONNXArtifactFixture()
        try make(fixture, try ONNXArtifact.compile(fixture.onnx))
        let loaded = try fixture.load()
        #expect(loaded.source == .sources && !loaded.network.isMapped)
        #expect(loaded.fallbackReason?.contains(reason) == true, "\(loaded.fallbackReason ?? "no reason")")
    }

    @Test func aCorruptByteFallsBackToModelONNX() throws {
        let fixture = try ONNXArtifactFixture()
        let sources = try fixture.load()
        var artifact = try ONNXArtifact.compile(fixture.onnx)
        try fixture.compile(artifact)
        artifact[artifact.count / 2] ^= 0x10
        try Data(artifact).write(to: URL(fileURLWithPath: fixture.artifactPath))
        let loaded = try fixture.load()
        #expect(loaded.source == .sources && loaded.fallbackReason?.contains("sha256 mismatch") == true)
        try expectSameOutputs(sources.network, loaded.network)
    }

    @Test func aTruncatedArtifactFallsBackToModelONNX() throws {
        try expectFallback("size mismatch") { fixture, artifact in
            try fixture.compile(artifact)
            #expect(truncate(fixture.artifactPath, off_t(artifact.count - 4096)) == 0)
        }
    }

    @Test func anArtifactForAnotherCPUIsIgnored() throws {
        try expectFallback("riscv64") { fixture, artifact in
            // The same artifact, its header naming another instruction set (same length, valid JSON).
            let isa = Array(ArtifactTarget.current.isa.utf8)
            let foreign = Array(("riscv64+v" + String(repeating: "x", count: max(0, isa.count - 9))).utf8)
            var bytes = artifact
            let headerEnd = 24 + (16..<24).reduce(0) { $0 | Int(bytes[$1]) << (8 * ($1 - 16)) }
            let at = try #require((24..<headerEnd).first { Array(bytes[$0..<($0 + isa.count)]) == isa })
            bytes.replaceSubrange(at..<(at + isa.count), with: foreign.prefix(isa.count))
            try fixture.compile(bytes)
        }
    }

    @Test func anArtifactOfAnotherFormatVersionIsIgnored() throws {
        try expectFallback("format version \(ArtifactContainer.formatVersion + 1)") { fixture, artifact in
            var bytes = artifact
            bytes[8] = UInt8(ArtifactContainer.formatVersion + 1)
            try fixture.compile(bytes)
        }
    }

    @Test func aDarknetArtifactIsNotReadAsAnONNXGraph() throws {
        try expectFallback("holds a darknet-yolo model, not onnx-graph") { fixture, _ in
            let dir = "data/models/yolo-fastest-1.1"
            let cfg = String(decoding: try DetectShared.bytes("\(dir)/yolo-fastest-1.1.cfg"), as: UTF8.self)
            try fixture.compile(
                try DarknetArtifact.compile(
                    cfg: cfg, weights: try DetectShared.bytes("\(dir)/yolo-fastest-1.1.weights")))
        }
    }
}

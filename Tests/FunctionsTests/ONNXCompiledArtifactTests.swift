import Foundation
import Testing

@testable import Functions
@testable import Inference
@testable import ONNX
@testable import ObjectStore

/// A file repository in a temporary folder holding an ONNX model (default yolov8n.onnx) as an
/// `onnx` version 1, published
/// the way `mscr publish --no-compile` does; `compile` adds an artifact as `mscr compile` does.
final class ONNXArtifactFixture: @unchecked Sendable {
    let root: String
    let repo: ModelRepository
    let model = "m"
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

/// Runs `body` on a thread of its own instead of Swift concurrency's global executor (on Linux
/// the Dispatch global queues, as wide as the 2 cores), so a long synchronous import or forward of
/// yolov8n does not starve other suites' tasks in the same process (MemoryBudgetTests waits 10 s).
func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { c in
        Thread { c.resume(with: Result { try body() }) }.start()
    }
}

@Suite("ONNX compiled artifacts through the loader: mapped in place, same answers, safe fallbacks", .serialized)
struct ONNXCompiledArtifactTests {
    /// The committed tf2onnx export of the original stack's Keras LSTM (2.6 KB: fast to import,
    /// so the fallback cases do not need yolov8n).
    static func lstm() throws -> [UInt8] { try ONNXStockRegressorTests.file("model.onnx") }

    /// The two networks' outputs for the same deterministic inputs must be the same bits.
    func expectSameOutputs(_ a: ONNXNetwork, _ b: ONNXNetwork) async throws {
        var feeds: [String: [Float]] = [:]
        for input in a.inputs {
            feeds[input.name] = (0..<input.shape.reduce(1, *)).map { Float(($0 * 7919) % 1000) / 1000 }
        }
        let (x, y) = try await offThePool { [feeds] in (try a.run(feeds), try b.run(feeds)) }
        #expect(x.count == a.outputs.count && y.count == x.count && !x.isEmpty)
        for (p, q) in zip(x, y) { #expect(!p.isEmpty && p.map(\.bitPattern) == q.map(\.bitPattern)) }
    }

    /// yolov8n (convolutions, mapped weights) and the Keras LSTM (its weights constants of the
    /// artifact): mapped from the file repository, the same outputs as model.onnx.
    @Test(arguments: ["yolov8n", "keras-lstm"])
    func theArtifactIsMappedInPlaceAndAnswersLikeModelONNX(_ model: String) async throws {
        let fixture = try ONNXArtifactFixture(onnx: model == "yolov8n" ? nil : Self.lstm())
        let (sources, mapped) = try await offThePool {
            let sources = try fixture.load()
            try fixture.compile(try ONNXArtifact.compile(fixture.onnx))
            return (sources, try fixture.load())
        }
        #expect(sources.source == .sources && !sources.network.isMapped && sources.fallbackReason == nil)
        #expect(mapped.source == .artifact && mapped.network.isMapped && mapped.fallbackReason == nil)
        #expect(mapped.metadata == sources.metadata)
        #expect(mapped.network.inputs.map(\.description) == sources.network.inputs.map(\.description))
        try await expectSameOutputs(sources.network, mapped.network)
        let version = try fixture.repo.resolve(model: fixture.model, version: "1")
        #expect(try version.mapVerified(DarknetModelLoader.artifactName).bytes.isFileBacked)
        guard model == "keras-lstm" else { return }  // one import of yolov8n less
        // MSCR_ARTIFACT=off imports model.onnx.
        let off = try ONNXModelLoader.load(model: version, policy: ArtifactPolicy(useArtifact: false))
        #expect(off.source == .sources && off.fallbackReason == "MSCR_ARTIFACT=off")
    }

    /// The artifact replaced by a bad variant: the loader says why and model.onnx answers.
    func expectFallback(_ reason: String, _ make: (ONNXArtifactFixture, [UInt8]) throws -> Void) throws {
        let fixture = try ONNXArtifactFixture(onnx: Self.lstm())
        try make(fixture, try ONNXArtifact.compile(fixture.onnx))
        let loaded = try fixture.load()
        #expect(loaded.source == .sources && !loaded.network.isMapped)
        #expect(loaded.fallbackReason?.contains(reason) == true, "\(loaded.fallbackReason ?? "no reason")")
    }

    @Test func aCorruptByteFallsBackToModelONNX() async throws {
        let fixture = try ONNXArtifactFixture(onnx: Self.lstm())
        let sources = try fixture.load()
        var artifact = try ONNXArtifact.compile(fixture.onnx)
        try fixture.compile(artifact)
        artifact[artifact.count - 100] ^= 0x10
        try Data(artifact).write(to: URL(fileURLWithPath: fixture.artifactPath))
        let loaded = try fixture.load()
        #expect(loaded.source == .sources && loaded.fallbackReason?.contains("sha256 mismatch") == true)
        try await expectSameOutputs(sources.network, loaded.network)
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

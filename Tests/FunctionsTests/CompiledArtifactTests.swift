import Foundation
import Testing

@testable import Functions
@testable import Inference
@testable import ObjectStore

/// A file repository in a temporary folder holding one real model as version 1, published the
/// way `mscr publish --no-compile` does; `compile` adds an artifact the way `mscr compile` does.
final class ArtifactFixture {
    let root: String
    let repo: ModelRepository
    let model: String
    let cfg: String
    let weights: [UInt8]

    init(_ model: String, store: (any ObjectStore)? = nil) throws {
        let root = NSTemporaryDirectory() + "mscr-artifact-\(UUID().uuidString)"
        self.root = root
        self.model = model
        repo = ModelRepository(store: store ?? FileObjectStore(root: root))
        let dir = "data/models/\(model)"
        cfg = String(decoding: try DetectShared.bytes("\(dir)/\(model).cfg"), as: UTF8.self)
        weights = try DetectShared.bytes("\(dir)/\(model).weights")
        try repo.publish(
            model: model, version: 1, format: "darknet-yolo",
            files: [
                "model.cfg": Array(cfg.utf8), "model.weights": weights,
                "classes.txt": try DetectShared.bytes("\(dir)/coco.names"),
            ])
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// Adds `artifact` (default: this build's) to version 1.
    func compile(_ artifact: [UInt8]? = nil) throws {
        let bytes = try artifact ?? DarknetArtifact.compile(cfg: cfg, weights: weights)
        try repo.addFile(model: model, version: 1, name: DarknetModelLoader.artifactName, bytes: bytes, chunked: true)
    }

    /// An artifact of this model written for `target` and format `version`.
    func artifact(target: ArtifactTarget = .current, version: UInt32 = DarknetArtifact.formatVersion) throws -> [UInt8]
    {
        let config = try DarknetConfig(text: cfg)
        var reader = DarknetWeightsReader(config: config)
        try reader.consume(weights)
        return try DarknetArtifact.write(cfg: cfg, layers: try reader.finish(), target: target, version: version)
    }

    var artifactPath: String { root + "/\(model)/1/\(DarknetModelLoader.artifactName)" }

    func load() throws -> DarknetModelLoader.Loaded {
        let version = try repo.resolve(model: model, version: "1")
        return try DarknetModelLoader.load(model: version, cfgText: cfg, concurrency: 1, policy: ArtifactPolicy())
    }

    func detector() throws -> DetectFunction {
        let config = FunctionConfig(
            name: "detect", kind: "darknet-yolo", model: model, params: ["threshold": 0.25, "nms": 0.45],
            limits: .init(maxPixels: 40_000_000, concurrency: 1))
        return try DetectLoader.darknet(config: config, model: try repo.resolve(model: model, version: "1"))
    }
}

/// An owner for bytes a test keeps alive itself.
final class Keep: Sendable {}

/// Every image's raw head outputs from the two networks must be bit-identical.
func expectSameHeads(_ a: DarknetNetwork, _ b: DarknetNetwork) throws {
    var input = [Float](repeating: 0, count: a.input.count)
    for i in input.indices { input[i] = Float((i * 7919) % 1000) / 1000 }
    let x = try a.forward(input)
    let y = try b.forward(input)
    #expect(x.count == y.count && !x.isEmpty)
    for (p, q) in zip(x, y) { #expect(p == q) }
}

@Suite("Compiled artifacts: load = map, same answers, safe fallbacks")
struct CompiledArtifactTests {
    @Test(arguments: ["yolo-fastest-1.1", "yolo-fastest-1.1-xl"])
    func artifactAnswersExactlyLikeTheSources(_ model: String) throws {
        let fixture = try ArtifactFixture(model)
        let sources = try fixture.load()
        #expect(sources.source == .sources && !sources.network.isMapped)
        let sourceDetector = try fixture.detector()
        try fixture.compile()
        let mapped = try fixture.load()
        #expect(mapped.source == .artifact && mapped.network.isMapped && mapped.fallbackReason == nil)
        try expectSameHeads(sources.network, mapped.network)
        let artifactDetector = try fixture.detector()
        #expect(artifactDetector.network.isMapped)
        for image in DetectGoldenTests.images {
            let body = try DetectShared.bytes("data/images/\(image)")
            let a = try detectJSON(sourceDetector, body)
            let b = try detectJSON(artifactDetector, body)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(b)) as? [String: Any])
            let ours = (json["detections"] as? [[String: Any]] ?? []).map { d -> DetectedBox in
                let box = d["box"] as? [String: Double] ?? [:]
                return DetectedBox(
                    classID: d["class_id"] as? Int ?? -1, score: d["score"] as? Double ?? 0,
                    box: [box["x1"] ?? 0, box["y1"] ?? 0, box["x2"] ?? 0, box["y2"] ?? 0])
            }
            let stem = image.split(separator: ".")[0]
            let golden = try DetectShared.json("golden/\(model)/\(stem).json")
            let goldenBoxes = (golden["detections"] as? [[String: Any]] ?? []).map {
                DetectedBox(
                    classID: $0["class_id"] as? Int ?? -1, score: $0["prob"] as? Double ?? 0,
                    box: $0["box"] as? [Double] ?? [])
            }
            #expect(!ours.isEmpty)
            #expect(goldenMismatches(ours: ours, golden: goldenBoxes, threshold: 0.25).isEmpty, "\(model) \(image)")
            // The detections (all but the timings) are the same bytes as the source path's.
            let other = try #require(try JSONSerialization.jsonObject(with: Data(a)) as? [String: Any])
            #expect(
                (json["detections"] as? NSArray)?.isEqual(to: other["detections"] as? [Any] ?? []) == true,
                "\(model) \(image)")
        }
    }

    /// The function host wraps the repository's store to meter each load; a file repository's
    /// artifact must still be mapped in place, not read through the wrapper into a copy.
    @Test func aMeteredFileRepositoryStillMapsTheArtifact() throws {
        let fixture = try ArtifactFixture("yolo-fastest-1.1")
        try fixture.compile()
        let metered = MeteredObjectStore(FileObjectStore(root: fixture.root))
        let version = try ModelRepository(store: metered).resolve(model: fixture.model, version: "1")
        let before = metered.snapshot.bytes
        let (bytes, _) = try version.mapVerified(DarknetModelLoader.artifactName)
        #expect(bytes.isFileBacked)
        #expect(metered.snapshot.bytes == before, "the artifact was read through the store")
        let loaded = try DarknetModelLoader.load(
            model: version, cfgText: fixture.cfg, concurrency: 1, policy: ArtifactPolicy())
        #expect(loaded.source == .artifact && loaded.network.isMapped)
        #expect(metered.snapshot.bytes == before)
        // A remote store (no local file) still fetches into memory of its own.
        let remote = try ArtifactFixture("yolo-fastest-1.1", store: MemoryObjectStore(chunkSize: 65_536))
        try remote.compile()
        let fetched = try remote.repo.resolve(model: remote.model, version: "1").mapVerified(
            DarknetModelLoader.artifactName)
        #expect(!fetched.bytes.isFileBacked)
    }

    @Test func remoteStoreFetchesWithRangedGetsAndVerifies() throws {
        let fixture = try ArtifactFixture("yolo-fastest-1.1", store: MemoryObjectStore(chunkSize: 65_536))
        let sources = try fixture.load()
        try fixture.compile()
        let entry = try fixture.repo.resolve(model: fixture.model, version: "1").entry(DarknetModelLoader.artifactName)
        #expect(entry.chunks?.count == (entry.size + ChunkDigests.defaultChunkSize - 1) / ChunkDigests.defaultChunkSize)
        let mapped = try fixture.load()
        #expect(mapped.source == .artifact && mapped.network.isMapped)
        try expectSameHeads(sources.network, mapped.network)
    }

    @Test func aCorruptChunkFromARemoteStoreFallsBackToTheSources() throws {
        let store = MemoryObjectStore(chunkSize: 65_536)
        let fixture = try ArtifactFixture("yolo-fastest-1.1", store: store)
        var artifact = try DarknetArtifact.compile(cfg: fixture.cfg, weights: fixture.weights)
        try fixture.compile(artifact)
        artifact[artifact.count - 100] ^= 0x80
        try store.put(
            "\(fixture.model)/1/\(DarknetModelLoader.artifactName)", bytes: artifact,
            contentType: "application/octet-stream")
        let loaded = try fixture.load()
        #expect(loaded.source == .sources && loaded.fallbackReason?.contains("sha256 mismatch in chunk") == true)
    }

    @Test func anArtifactOfAnotherFormatVersionIsIgnored() throws {
        let fixture = try ArtifactFixture("yolo-fastest-1.1")
        try fixture.compile(try fixture.artifact(version: DarknetArtifact.formatVersion + 1))
        let loaded = try fixture.load()
        #expect(loaded.source == .sources && !loaded.network.isMapped)
        #expect(loaded.fallbackReason?.contains("format version \(DarknetArtifact.formatVersion + 1)") == true)
    }

    @Test func anArtifactForAnotherCPUIsIgnored() throws {
        let fixture = try ArtifactFixture("yolo-fastest-1.1")
        var foreign = ArtifactTarget.current
        foreign.isa = "riscv64+v"
        try fixture.compile(try fixture.artifact(target: foreign))
        let loaded = try fixture.load()
        #expect(loaded.source == .sources && loaded.fallbackReason?.contains("riscv64+v") == true)
        foreign = .current
        foreign.panelColumns += 8
        let other = try ArtifactFixture("yolo-fastest-1.1")
        try other.compile(try other.artifact(target: foreign))
        #expect(try other.load().source == .sources)
    }

    @Test func aTruncatedArtifactFallsBackToTheSources() throws {
        let fixture = try ArtifactFixture("yolo-fastest-1.1")
        let sources = try fixture.load()
        let artifact = try DarknetArtifact.compile(cfg: fixture.cfg, weights: fixture.weights)
        try fixture.compile(artifact)
        #expect(truncate(fixture.artifactPath, off_t(artifact.count - 4096)) == 0)
        let loaded = try fixture.load()
        #expect(loaded.source == .sources && loaded.fallbackReason?.contains("size mismatch") == true)
        try expectSameHeads(sources.network, loaded.network)
        // Unverified truncated bytes are refused by the loader itself, naming the problem.
        let short = Array(artifact.prefix(artifact.count - 4096))
        #expect {
            try short.withUnsafeBytes {
                _ = try DarknetArtifact.load($0.baseAddress!, count: $0.count, owner: Keep())
            }
        } throws: { ($0 as? InferenceError)?.code == .invalidModel && "\($0)".contains("truncated") }
    }

    @Test func aCorruptByteFallsBackToTheSources() throws {
        let fixture = try ArtifactFixture("yolo-fastest-1.1")
        let sources = try fixture.load()
        var artifact = try DarknetArtifact.compile(cfg: fixture.cfg, weights: fixture.weights)
        try fixture.compile(artifact)
        // One bit of one weight, on disk, under an unchanged manifest.
        artifact[artifact.count / 2] ^= 0x10
        try Data(artifact).write(to: URL(fileURLWithPath: fixture.artifactPath))
        let loaded = try fixture.load()
        #expect(loaded.source == .sources && loaded.fallbackReason?.contains("sha256 mismatch in chunk 0") == true)
        try expectSameHeads(sources.network, loaded.network)
    }

    @Test func compilingTwiceIsANoOpAndADifferentArtifactIsRefused() throws {
        let fixture = try ArtifactFixture("yolo-fastest-1.1")
        try fixture.compile()
        let before = try fixture.repo.resolve(model: fixture.model, version: "1").manifest
        try fixture.compile()
        #expect(try fixture.repo.resolve(model: fixture.model, version: "1").manifest == before)
        #expect(before.files.keys.sorted() == ["classes.txt", "model.cfg", "model.compiled", "model.weights"])
        #expect(throws: ObjectStoreError.self) {
            try fixture.compile(try fixture.artifact(version: 7))
        }
    }
}

import Foundation
import Testing

@testable import Functions
@testable import Inference
@testable import ObjectStore

/// `../shared` next to the repository root.
enum DetectShared {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }  // Tests/FunctionsTests/<file> -> parent of repo
        return url.appendingPathComponent("shared").path
    }()

    static func bytes(_ relative: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: root + "/" + relative) else {
            throw FunctionError(.notFound, "missing test data \(root)/\(relative)")
        }
        return [UInt8](data)
    }

    static func json(_ relative: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(try bytes(relative))) as? [String: Any] ?? [:]
    }
}

/// A repository in memory holding one real model as version 1, the way `publish` lays it out.
func detectRepository(model: String, weights: [UInt8]? = nil) throws -> ModelVersion {
    let store = MemoryObjectStore(chunkSize: 65_536)
    let repo = ModelRepository(store: store)
    let dir = "data/models/\(model)"
    try repo.publish(
        model: model, version: 1, format: "darknet-yolo",
        files: [
            "model.cfg": try DetectShared.bytes("\(dir)/\(model).cfg"),
            "model.weights": try weights ?? DetectShared.bytes("\(dir)/\(model).weights"),
            "classes.txt": try DetectShared.bytes("\(dir)/coco.names"),
        ])
    return try repo.resolve(model: model, version: "latest")
}

/// The loaded detect function for one of the real models.
func loadDetector(_ model: String, maxPixels: Int = 40_000_000) throws -> DetectFunction {
    let config = FunctionConfig(
        name: "detect", kind: "darknet-yolo", model: model, params: ["threshold": 0.25, "nms": 0.45],
        limits: .init(maxPixels: maxPixels, concurrency: 2))
    return try DetectLoader.darknet(config: config, model: try detectRepository(model: model))
}

/// The detect JSON of an image (what the detect function answers `POST /functions/detect`):
/// decoded, detected and rendered by the engine's own pieces, without the runtime's codecs.
func detectJSON(_ detector: some DetectingFunction, _ image: [UInt8], threshold: Float? = nil) throws -> [UInt8] {
    let result = try detector.detect(imageBytes: image, threshold: threshold)
    return Array(
        DetectJSON.response(
            model: detector.modelName, version: detector.version, result: result,
            names: detector.classNames
        ).utf8)
}

/// Parsed detections of a response body or golden file: (class id, score, box).
struct DetectedBox {
    var classID: Int
    var score: Double
    var box: [Double]

    func iou(_ o: DetectedBox) -> Double {
        let iw = min(box[2], o.box[2]) - max(box[0], o.box[0])
        let ih = min(box[3], o.box[3]) - max(box[1], o.box[1])
        guard iw > 0, ih > 0 else { return 0 }
        let inter = iw * ih
        return inter / ((box[2] - box[0]) * (box[3] - box[1]) + (o.box[2] - o.box[0]) * (o.box[3] - o.box[1]) - inter)
    }
}

/// Matches `ours` to `golden` (same class, best IoU, greedy in golden order) and returns the
/// problems: a golden detection without a match (unless within 0.01 of the threshold), a match
/// with IoU < 0.98 or |Δscore| > 0.01, an unmatched detection of ours not within 0.01 of the threshold.
func goldenMismatches(ours: [DetectedBox], golden: [DetectedBox], threshold: Double) -> [String] {
    var used = Set<Int>()
    var problems: [String] = []
    for g in golden {
        var best = -1
        var bestIoU = 0.0
        for (j, o) in ours.enumerated() where !used.contains(j) && o.classID == g.classID {
            let v = o.iou(g)
            if v > bestIoU { (best, bestIoU) = (j, v) }
        }
        guard best >= 0 else {
            if g.score > threshold + 0.01 { problems.append("missing class \(g.classID) score \(g.score)") }
            continue
        }
        used.insert(best)
        if bestIoU < 0.98 { problems.append("class \(g.classID) IoU \(bestIoU)") }
        if abs(ours[best].score - g.score) > 0.01 {
            problems.append("class \(g.classID) score \(ours[best].score) vs \(g.score)")
        }
    }
    for (j, o) in ours.enumerated() where !used.contains(j) && o.score > threshold + 0.01 {
        problems.append("extra class \(o.classID) score \(o.score)")
    }
    return problems
}

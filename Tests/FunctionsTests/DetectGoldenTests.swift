import Foundation
import Testing

@testable import Functions
@testable import Inference

@Suite("Detect against Darknet's own answers")
struct DetectGoldenTests {
    static let images = ["dog.jpg", "eagle.jpg", "girl.png", "street.jpg"]

    @Test(arguments: ["yolo-fastest-1.1", "yolo-fastest-1.1-xl"])
    func sameDetectionsAsDarknet(_ model: String) throws {
        let detector = try loadDetector(model)
        for image in Self.images {
            let stem = image.split(separator: ".")[0]
            let golden = try DetectShared.json("golden/\(model)/\(stem).json")
            let goldenBoxes = (golden["detections"] as? [[String: Any]] ?? []).map {
                DetectedBox(
                    classID: $0["class_id"] as? Int ?? -1, score: $0["prob"] as? Double ?? 0,
                    box: $0["box"] as? [Double] ?? [])
            }
            try #require(!goldenBoxes.isEmpty)
            let body = try detectJSON(detector, try DetectShared.bytes("data/images/\(image)"))
            let json = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
            let modelInfo = json["model"] as? [String: Any]
            #expect(modelInfo?["name"] as? String == model && modelInfo?["version"] as? Int == 1)
            let size = json["image"] as? [String: Any]
            #expect(
                size?["width"] as? Int == golden["width"] as? Int && size?["height"] as? Int == golden["height"] as? Int
            )
            let ours = (json["detections"] as? [[String: Any]] ?? []).map { d -> DetectedBox in
                let b = d["box"] as? [String: Double] ?? [:]
                return DetectedBox(
                    classID: d["class_id"] as? Int ?? -1, score: d["score"] as? Double ?? 0,
                    box: [b["x1"] ?? 0, b["y1"] ?? 0, b["x2"] ?? 0, b["y2"] ?? 0])
            }
            let problems = goldenMismatches(ours: ours, golden: goldenBoxes, threshold: 0.25)
            #expect(problems.isEmpty, "\(model) \(image): \(problems)")
            // Names come from classes.txt.
            if let first = (json["detections"] as? [[String: Any]])?.first, let id = first["class_id"] as? Int {
                #expect(first["class"] as? String == detector.classNames[id])
            }
        }
    }
}

import Common
import Inference

/// The JSON of detections, written by hand so key order and number format are stable:
/// scores to 6 decimals, box corners (pixels of the original image) to 3.
package enum DetectJSON {
    /// `[{"class", "class_id", "score", "box": {"x1", "y1", "x2", "y2"}}, …]`
    package static func detections(_ detections: [Detection], names: [String]) -> String {
        var out = "["
        for (i, d) in detections.enumerated() {
            if i > 0 { out += "," }
            let name = d.classID < names.count ? names[d.classID] : "class \(d.classID)"
            out += "{\"class\":\(string(name)),\"class_id\":\(d.classID),\"score\":\(number(Double(d.score), 6)),"
            out += "\"box\":{\"x1\":\(number(d.box.x1, 3)),\"y1\":\(number(d.box.y1, 3)),"
            out += "\"x2\":\(number(d.box.x2, 3)),\"y2\":\(number(d.box.y2, 3))}}"
        }
        return out + "]"
    }

    /// The function's response (DESIGN.md): `{"model": {"name", "version"}, "image": {"width", "height"}, "detections": […]}`.
    package static func response(model: String, version: Int, result: DetectionResult, names: [String]) -> String {
        "{\"model\":{\"name\":\(string(model)),\"version\":\(version)},"
            + "\"image\":{\"width\":\(result.width),\"height\":\(result.height)},"
            + "\"detections\":\(detections(result.detections, names: names))}"
    }

    /// A JSON string literal.
    package static func string(_ s: String) -> String { JSONText.string(s) }

    /// A finite number rounded to `decimals` places (non-finite values become 0: JSON has no NaN).
    package static func number(_ v: Double, _ decimals: Int) -> String {
        JSONText.number(v, decimals, nonFinite: "0")
    }
}

import Detect
import Foundation
import Functions
import Hummingbird
import HummingbirdTesting
import Logging
import ObjectStore
import Runtime
import Testing

/// The real yolo-fastest-1.1 (from `../shared`) behind the V2 routes: the tensors equal the
/// native endpoint's answer.
@Suite("V2 protocol: detect with the real model (router level)")
struct V2DetectTests {
    static let shared = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "../../../shared"
    )
    .standardizedFileURL.path

    /// A functions folder with the repo's `detect` config and a repository holding the model,
    /// served by `kinds` (default: the detect function of `functions/detect`).
    /// A server of `functions/detect/function.json` (with `limits.maxPixels` replaced when given)
    /// over a repository holding yolo-fastest-1.1.
    static func server(root: String, kinds: [any HostedKind]? = nil, maxPixels: Int? = nil) throws -> MSCRServer {
        let fm = FileManager.default
        let functions = root + "/functions/detect"
        try fm.createDirectory(atPath: functions, withIntermediateDirectories: true)
        let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..")
            .standardizedFileURL.path
        var config = try String(contentsOfFile: repoRoot + "/functions/detect/function.json", encoding: .utf8)
        if let maxPixels {
            config = config.replacingOccurrences(of: #""maxPixels": 40000000"#, with: #""maxPixels": \#(maxPixels)"#)
            try #require(config.contains("\(maxPixels)"))
        }
        try config.write(toFile: functions + "/function.json", atomically: true, encoding: .utf8)
        let model = shared + "/data/models/yolo-fastest-1.1"
        let files = [
            "model.cfg": try Data(contentsOf: URL(fileURLWithPath: model + "/yolo-fastest-1.1.cfg")),
            "model.weights": try Data(contentsOf: URL(fileURLWithPath: model + "/yolo-fastest-1.1.weights")),
            "classes.txt": try Data(contentsOf: URL(fileURLWithPath: model + "/coco.names")),
        ].mapValues { Array($0) }
        try ModelRepository(store: FileObjectStore(root: root + "/models")).publish(
            model: "yolo-fastest-1.1", format: "darknet-yolo", files: files)
        var c = RuntimeConfiguration()
        c.port = 0
        c.functionsDirectory = root + "/functions"
        c.modelRepository = "file://" + root + "/models"
        return try MSCRServer(
            configuration: c, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
            extraKinds: try kinds ?? TypedFunctionKinds.make([Detect.self, DarknetYOLO.self]))
    }

    @Test("binary and base64-JSON infer on dog.jpg equal POST /functions/detect")
    func detectEqualsNative() async throws {
        let root = NSTemporaryDirectory() + "mscr-v2-detect-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let server = try Self.server(root: root)
        let image = Array(try Data(contentsOf: URL(fileURLWithPath: Self.shared + "/data/images/dog.jpg")))
        try await server.makeApplication(router: server.makeRouter()).test(.router) { client in
            let native = try await client.execute(
                uri: "/functions/detect", method: .post, headers: [.contentType: "image/jpeg"],
                body: ByteBuffer(bytes: image))
            #expect(native.status == .ok)
            let detections = native.json["detections"] as? [[String: Any]] ?? []
            #expect(!detections.isEmpty)

            let header = """
                {"inputs": [{"name": "image", "datatype": "BYTES", "shape": [1], "parameters": {"binary_data_size": \(image.count + 4)}}],
                 "outputs": [{"name": "boxes"}, {"name": "scores"}, {"name": "classes"}, {"name": "labels"}]}
                """
            let (body, length) = V2Body.binary(header: header, chunks: [V2Body.bytes([image])])
            let binary = try await client.execute(
                uri: "/v2/models/detect/infer", method: .post,
                headers: [V2InferBinaryTests.headerLength: length], body: body)
            let json = V2Body.json(
                #"{"inputs": [{"name": "image", "datatype": "BYTES", "shape": [1], "data": ["\#(TensorBase64.encode(image))"]}]}"#
            )
            let base64 = try await client.execute(uri: "/v2/models/detect/infer", method: .post, body: json)
            for r in [binary, base64] {
                #expect(r.status == .ok, "\(r.text.prefix(300))")
                let o = r.v2Outputs
                #expect(o["boxes"]?["shape"] as? [Int] == [detections.count, 4])
                #expect(o["labels"]?["data"] as? [String] == detections.map { $0["class"] as? String ?? "" })
                #expect(o["classes"]?["data"] as? [Int] == detections.map { $0["class_id"] as? Int ?? -1 })
                let scores = o["scores"]?["data"] as? [Double] ?? []
                let boxes = o["boxes"]?["data"] as? [Double] ?? []
                #expect(scores.count == detections.count && boxes.count == 4 * detections.count)
                for (i, d) in detections.enumerated() where i < scores.count && 4 * i + 3 < boxes.count {
                    #expect(abs(scores[i] - (d["score"] as? Double ?? -1)) < 2e-6)
                    let box = d["box"] as? [String: Double] ?? [:]
                    for (k, key) in ["x1", "y1", "x2", "y2"].enumerated() {
                        #expect(abs(boxes[4 * i + k] - (box[key] ?? -1)) < 2e-3)
                    }
                }
            }
            // Bytes that are no image are a 400 in the V2 shape (422 natively).
            let corrupt = V2Body.json(
                #"{"inputs": [{"name": "image", "datatype": "BYTES", "shape": [1], "data": ["\#(TensorBase64.encode(Array("not an image at all".utf8)))"]}]}"#
            )
            try await client.execute(uri: "/v2/models/detect/infer", method: .post, body: corrupt) { r in
                #expect(r.status == .badRequest)
                #expect(r.v2Error != nil)
            }
        }
    }
}

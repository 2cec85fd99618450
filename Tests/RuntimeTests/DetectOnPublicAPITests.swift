import Detect
import Foundation
import Functions
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import ObjectStore
import Runtime
import Testing

/// The detect function on the public API (`functions/detect`) answers what the runtime's own
/// detect kind answered before it was removed: while both existed the same requests went to both
/// and were compared byte for byte (status, content type, body: JSON, drawn JPEG, errors, V2);
/// now each call keeps the status and content type recorded then, and the JSON answers are the
/// engine's own rendering of its detections.
@Suite("detect on the public API answers as the built-in kind did")
struct DetectOnPublicAPITests {
    typealias Call = RouterCall
    typealias Answer = RouterAnswer

    static func image(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: V2DetectTests.shared + "/data/images/" + name)))
    }

    static func calls() throws -> [Call] {
        let dog = try image("dog.jpg")
        let girl = try image("girl.png")
        let street = try image("street.jpg")
        let boundary = "b0undary"
        let form =
            Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"e.jpg\"\r\n\r\n".utf8)
            + (try image("eagle.jpg")) + Array("\r\n--\(boundary)--\r\n".utf8)
        let base64 = Data(dog).base64EncodedString()
        let v2JSON = """
            {"inputs": [{"name": "image", "datatype": "BYTES", "shape": [1], "data": ["\(base64)"]}],
             "parameters": {"threshold": 0.3}}
            """
        let binaryHeader = """
            {"inputs": [{"name": "image", "datatype": "BYTES", "shape": [1], "parameters": {"binary_data_size": \(girl.count + 4)}}],
             "parameters": {"binary_data_output": true}}
            """
        let (binaryBody, binaryLength) = V2Body.binary(header: binaryHeader, chunks: [V2Body.bytes([girl])])
        return [
            Call(name: "jpeg", uri: "/functions/detect", contentType: "image/jpeg", body: dog),
            Call(name: "png at 0.5", uri: "/functions/detect?threshold=0.5", contentType: "image/png", body: girl),
            Call(name: "no type", uri: "/functions/detect", contentType: nil, body: street),
            Call(
                name: "drawn", uri: "/functions/detect?format=jpeg&threshold=0.3", contentType: "image/jpeg",
                body: street),
            Call(
                name: "multipart", uri: "/functions/detect", contentType: "multipart/form-data; boundary=\(boundary)",
                body: form),
            Call(
                name: "multipart without file", uri: "/functions/detect",
                contentType: "multipart/form-data; boundary=x", body: Array("--x--".utf8)),
            Call(name: "json body", uri: "/functions/detect", contentType: "application/json", body: Array("{}".utf8)),
            Call(name: "text", uri: "/functions/detect", contentType: "text/plain", body: Array("hi".utf8)),
            Call(name: "empty", uri: "/functions/detect", contentType: nil, body: []),
            Call(name: "bad threshold", uri: "/functions/detect?threshold=abc", contentType: "image/jpeg", body: dog),
            Call(name: "low threshold", uri: "/functions/detect?threshold=0.001", contentType: "image/jpeg", body: dog),
            Call(
                name: "bad threshold, bad type", uri: "/functions/detect?threshold=2", contentType: "text/plain",
                body: []),
            Call(
                name: "bad format", uri: "/functions/detect?format=png&threshold=abc", contentType: "text/plain",
                body: []),
            Call(
                name: "garbage", uri: "/functions/detect", contentType: "application/octet-stream",
                body: [1, 2, 3, 4, 5]),
            Call(
                name: "fake jpeg", uri: "/functions/detect", contentType: "image/jpeg", body: Array("not a jpeg".utf8)),
            Call(name: "gif", uri: "/functions/detect", contentType: "image/gif", body: Array("GIF89a......".utf8)),
            Call(name: "gif as bytes", uri: "/functions/detect", contentType: nil, body: Array("GIF89a......".utf8)),
            Call(
                name: "truncated", uri: "/functions/detect", contentType: "image/jpeg",
                body: Array(dog.prefix(dog.count / 3))),
            Call(name: "v2 metadata", uri: "/v2/models/detect", method: .get, contentType: nil, body: []),
            Call(
                name: "v2 json", uri: "/v2/models/detect/infer", contentType: "application/json",
                body: Array(v2JSON.utf8)),
            Call(
                name: "v2 binary", uri: "/v2/models/detect/infer", contentType: "application/octet-stream",
                body: Array(binaryBody.readableBytesView),
                headers: [V2InferBinaryTests.headerLength: binaryLength]),
            Call(
                name: "v2 bad threshold", uri: "/v2/models/detect/infer", contentType: "application/json",
                body: Array(v2JSON.replacingOccurrences(of: "0.3", with: "7").utf8)),
            Call(
                name: "v2 not an image", uri: "/v2/models/detect/infer", contentType: "application/json",
                body: Array(
                    #"{"inputs": [{"name": "image", "datatype": "BYTES", "shape": [1], "data": ["aGVsbG8="]}]}"#.utf8)),
        ]
    }

    static func answers(kinds: [any HostedKind], calls: [Call]) async throws -> [Answer] {
        let root = NSTemporaryDirectory() + "mscr-detect-api-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        return try await V2DetectTests.server(root: root, kinds: kinds).answers(calls)
    }

    /// Each call's status and content type (recorded from the runtime's own detect kind while it
    /// existed, when the two were compared byte for byte, and unchanged since).
    static let expected: [String: (status: Int, contentType: String)] = [
        "jpeg": (200, json), "png at 0.5": (200, json), "no type": (200, json), "drawn": (200, "image/jpeg"),
        "multipart": (200, json), "multipart without file": (400, json), "json body": (415, json),
        "text": (415, json), "empty": (400, json), "bad threshold": (400, json), "low threshold": (400, json),
        "bad threshold, bad type": (400, json), "bad format": (400, json), "garbage": (415, json),
        "fake jpeg": (422, json), "gif": (415, json), "gif as bytes": (415, json), "truncated": (422, json),
        "v2 metadata": (200, json), "v2 json": (200, json), "v2 binary": (200, "application/octet-stream"),
        "v2 bad threshold": (400, json), "v2 not an image": (400, json),
    ]
    static let json = "application/json"

    /// The detect JSON the engine itself renders for `image` (decode, detect, `DetectJSON`),
    /// from the same published model, without the runtime's codecs or the public API.
    static func engineJSON(_ image: [UInt8], threshold: Float?) throws -> [UInt8] {
        let root = NSTemporaryDirectory() + "mscr-detect-engine-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = try V2DetectTests.server(root: root)
        let model = try ModelRepository(store: FileObjectStore(root: root + "/models"))
            .resolve(model: "yolo-fastest-1.1", version: "latest")
        let config = FunctionConfig(
            name: "detect", kind: "darknet-yolo", model: "yolo-fastest-1.1", params: ["threshold": 0.25, "nms": 0.45])
        let detector = try DetectLoader.darknet(config: config, model: model)
        let result = try detector.detect(imageBytes: image, threshold: threshold)
        return Array(
            DetectJSON.response(
                model: detector.modelName, version: detector.version, result: result, names: detector.classNames
            ).utf8)
    }

    @Test("every call: its status and content type; detections as the engine renders them")
    func answersOnThePublicAPI() async throws {
        let calls = try Self.calls()
        let typed = try await Self.answers(
            kinds: try TypedFunctionKinds.make([Detect.self, DarknetYOLO.self]), calls: calls)
        #expect(typed.count == calls.count && Set(calls.map(\.name)) == Set(Self.expected.keys))
        for (call, answer) in zip(calls, typed) {
            let want = try #require(Self.expected[call.name], "\(call.name)")
            #expect(
                answer.status == want.status,
                "\(call.name): \(answer.status) \(String(decoding: answer.body.prefix(300), as: UTF8.self))")
            #expect(answer.contentType == want.contentType, "\(call.name)")
        }
        // The JSON answers are the engine's own rendering of its detections, byte for byte.
        let byName = Dictionary(uniqueKeysWithValues: zip(calls.map(\.name), typed))
        for (name, image, threshold) in [
            ("jpeg", "dog.jpg", nil), ("png at 0.5", "girl.png", 0.5), ("no type", "street.jpg", nil),
            ("multipart", "eagle.jpg", nil),
        ] as [(String, String, Float?)] {
            let answer = try #require(byName[name])
            #expect(answer.body == (try Self.engineJSON(try Self.image(image), threshold: threshold)), "\(name)")
        }
        #expect(typed.contains { $0.contentType == "image/jpeg" && $0.body.starts(with: [0xFF, 0xD8, 0xFF]) })
    }
}

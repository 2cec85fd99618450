import Foundation
import Testing

@testable import Functions
@testable import Inference

@Suite("Detect requests")
struct DetectRequestTests {
    static let detector: Result<DetectFunction, any Error> = Result {
        try loadDetector("yolo-fastest-1.1", maxPixels: 1_000_000)
    }

    static func count(_ response: FunctionResponse) throws -> Int {
        let json = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        return (json?["detections"] as? [Any])?.count ?? -1
    }

    @Test func multipartFilePartEqualsRawBody() throws {
        let detector = try Self.detector.get()
        let image = try DetectShared.bytes("data/images/eagle.jpg")
        let boundary = "XyZ-123"
        var body = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n".utf8)
        body += Array(
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"e.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
                .utf8)
        body += image + Array("\r\n--\(boundary)--\r\n".utf8)
        let multipart = try detector.invoke(
            FunctionRequest(body: body, contentType: "multipart/form-data; boundary=\"\(boundary)\""))
        let raw = try detector.invoke(FunctionRequest(body: image, contentType: "application/octet-stream"))
        #expect(multipart.body == raw.body)
        #expect(try Self.count(raw) == 1)
    }

    @Test func jpegFormatDrawsBoxes() throws {
        let detector = try Self.detector.get()
        let image = try DetectShared.bytes("data/images/dog.jpg")
        let response = try detector.invoke(FunctionRequest(body: image, query: ["format": "jpeg"]))
        #expect(response.contentType == "image/jpeg")
        let drawn = try ImageCodec.decode(response.body, maxPixels: 1_000_000)
        let original = try ImageCodec.decode(image, maxPixels: 1_000_000)
        #expect(drawn.width == 768 && drawn.height == 576)
        let changed = zip(drawn.pixels, original.pixels).filter { abs(Int($0) - Int($1)) > 60 }.count
        #expect(changed > 1000)
    }

    @Test func thresholdQueryOverridesTheDefault() throws {
        let detector = try Self.detector.get()
        let image = try DetectShared.bytes("data/images/street.jpg")
        let loose = try Self.count(try detector.invoke(FunctionRequest(body: image, query: ["threshold": "0.1"])))
        let normal = try Self.count(try detector.invoke(FunctionRequest(body: image)))
        let strict = try Self.count(try detector.invoke(FunctionRequest(body: image, query: ["threshold": "0.9"])))
        #expect(loose > normal && normal > strict && normal == 20)
    }

    @Test(arguments: [
        (FunctionRequest(body: []), FunctionError.Code.invalidInput),
        (FunctionRequest(body: Array("abc".utf8), contentType: "text/plain"), .unsupportedMediaType),
        (FunctionRequest(body: Array("GIF89a".utf8)), .unsupportedMediaType),
        (FunctionRequest(body: Array("not an image".utf8), contentType: "image/jpeg"), .unprocessable),
        (FunctionRequest(body: [0xFF, 0xD8, 0xFF, 0xE0, 1, 2]), .unprocessable),
        (FunctionRequest(body: [1], contentType: "multipart/form-data"), .invalidInput),
        (
            FunctionRequest(body: Array("--b\r\n\r\n\r\n--b--".utf8), contentType: "multipart/form-data; boundary=b"),
            .invalidInput
        ),
        (FunctionRequest(body: [0xFF, 0xD8, 0xFF], query: ["format": "gif"]), .invalidInput),
        (FunctionRequest(body: [0xFF, 0xD8, 0xFF], query: ["threshold": "high"]), .invalidInput),
        (FunctionRequest(body: [0xFF, 0xD8, 0xFF], query: ["threshold": "1.5"]), .invalidInput),
    ])
    func badRequestsGetClearErrors(_ request: FunctionRequest, _ code: FunctionError.Code) throws {
        let detector = try Self.detector.get()
        let error = try #require(throws: FunctionError.self) { try detector.invoke(request) }
        #expect(error.code == code, "\(error.message)")
    }

    @Test func tooManyPixelsIsUnprocessable() throws {
        // The detector allows 1 000 000 pixels; street.jpg has 756 000, a 1200x1200 PNG 1 440 000.
        let detector = try Self.detector.get()
        let png = TinyPNG.encode(
            width: 1200, height: 1200, colorType: 0, depth: 8,
            rows: Array(repeating: [UInt8](repeating: 0, count: 1200), count: 1200))
        let error = try #require(throws: FunctionError.self) {
            try detector.invoke(FunctionRequest(body: png, contentType: "image/png"))
        }
        #expect(error.code == .unprocessable && error.message.contains("1440000"))
    }

    @Test func weightsThatDoNotMatchTheCfgNameTheLayer() throws {
        let weights = try DetectShared.bytes("data/models/yolo-fastest-1.1/yolo-fastest-1.1.weights")
        let version = try detectRepository(model: "yolo-fastest-1.1", weights: Array(weights.dropLast(1000)))
        let config = FunctionConfig(name: "detect", kind: "darknet-yolo", model: "yolo-fastest-1.1")
        let error = try #require(throws: FunctionError.self) { try DetectKind().load(config: config, model: version) }
        #expect(
            error.message.contains("expected \(weights.count) bytes, got \(weights.count - 1000)"), "\(error.message)")
        #expect(error.message.contains("layer 129 [convolutional]"), "\(error.message)")
    }

    @Test func classNamesSkipBlankLines() {
        #expect(DetectKind.classNames("person\n\nbicycle \r\ncar\n") == ["person", "bicycle", "car"])
    }
}

import Foundation
import Functions
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Inference
import Testing

/// What a request to the detect function (`functions/detect`, on the public API) may carry and
/// the errors it gets, through the router: the runtime's codecs, the function and the engine.
@Suite("Detect requests")
struct DetectRequestTests {
    typealias Reply = RouterAnswer

    /// Sends each `(uri, content type, body)` to one detect server (yolo-fastest-1.1, at most
    /// `maxPixels` decoded pixels) and returns the replies in order.
    static func replies(
        _ requests: [(uri: String, contentType: String?, body: [UInt8])], maxPixels: Int = 1_000_000
    ) async throws -> [Reply] {
        let root = NSTemporaryDirectory() + "mscr-detect-requests-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        return try await V2DetectTests.server(root: root, maxPixels: maxPixels).answers(
            requests.map { RouterCall(name: $0.uri, uri: $0.uri, contentType: $0.contentType, body: $0.body) })
    }

    static func image(_ name: String) throws -> [UInt8] { try DetectOnPublicAPITests.image(name) }

    static func detections(_ reply: Reply) throws -> [[String: Any]] {
        let json = try JSONSerialization.jsonObject(with: Data(reply.body)) as? [String: Any]
        return try #require(json?["detections"] as? [[String: Any]], "\(reply.text.prefix(300))")
    }

    @Test func multipartFilePartEqualsRawBody() async throws {
        let image = try Self.image("eagle.jpg")
        let boundary = "XyZ-123"
        var body = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n".utf8)
        body += Array(
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"e.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
                .utf8)
        body += image + Array("\r\n--\(boundary)--\r\n".utf8)
        let replies = try await Self.replies([
            ("/functions/detect", "multipart/form-data; boundary=\"\(boundary)\"", body),
            ("/functions/detect", "application/octet-stream", image),
        ])
        #expect(replies.map(\.status) == [200, 200])
        #expect(replies[0].body == replies[1].body)
        #expect(try Self.detections(replies[1]).count == 1)
    }

    @Test func jpegFormatDrawsBoxes() async throws {
        let image = try Self.image("dog.jpg")
        let reply = try #require(try await Self.replies([("/functions/detect?format=jpeg", nil, image)]).first)
        #expect(reply.status == 200 && reply.contentType == "image/jpeg")
        let drawn = try ImageCodec.decode(reply.body, maxPixels: 1_000_000)
        let original = try ImageCodec.decode(image, maxPixels: 1_000_000)
        #expect(drawn.width == 768 && drawn.height == 576)
        let changed = zip(drawn.pixels, original.pixels).filter { abs(Int($0) - Int($1)) > 60 }.count
        #expect(changed > 1000)
    }

    @Test func thresholdQueryOverridesTheDefault() async throws {
        let image = try Self.image("street.jpg")
        let replies = try await Self.replies([
            ("/functions/detect?threshold=0.1", "image/jpeg", image), ("/functions/detect", "image/jpeg", image),
            ("/functions/detect?threshold=0.9", "image/jpeg", image),
        ])
        let (loose, normal, strict) = (
            try Self.detections(replies[0]).count, try Self.detections(replies[1]).count,
            try Self.detections(replies[2]).count
        )
        #expect(loose > normal && normal > strict && normal == 20)
    }

    @Test func badRequestsGetClearErrors() async throws {
        let cases: [(uri: String, contentType: String?, body: [UInt8], status: Int)] = [
            ("/functions/detect", nil, [], 400),
            ("/functions/detect", "text/plain", Array("abc".utf8), 415),
            ("/functions/detect", nil, Array("GIF89a".utf8), 415),
            ("/functions/detect", "image/jpeg", Array("not an image".utf8), 422),
            ("/functions/detect", nil, [0xFF, 0xD8, 0xFF, 0xE0, 1, 2], 422),
            ("/functions/detect", "multipart/form-data", [1], 400),
            ("/functions/detect", "multipart/form-data; boundary=b", Array("--b\r\n\r\n\r\n--b--".utf8), 400),
            ("/functions/detect?format=gif", nil, [0xFF, 0xD8, 0xFF], 400),
            ("/functions/detect?threshold=high", nil, [0xFF, 0xD8, 0xFF], 400),
            ("/functions/detect?threshold=1.5", nil, [0xFF, 0xD8, 0xFF], 400),
        ]
        let replies = try await Self.replies(cases.map { ($0.uri, $0.contentType, $0.body) })
        for (c, reply) in zip(cases, replies) {
            #expect(reply.status == c.status, "\(c.uri) \(c.contentType ?? "-"): \(reply.text)")
            // Every error is the JSON error answer with a message that says what to send.
            let json = try JSONSerialization.jsonObject(with: Data(reply.body)) as? [String: Any]
            let error = json?["error"] as? [String: Any]
            #expect((error?["message"] as? String)?.isEmpty == false, "\(reply.text)")
        }
    }

    @Test func tooManyPixelsIsUnprocessable() async throws {
        // The function allows 1 000 000 pixels; street.jpg has 756 000, a 1200x1200 JPEG 1 440 000.
        let big = try ImageCodec.encodeJPEG(
            try RGBImage(width: 1200, height: 1200, pixels: [UInt8](repeating: 90, count: 1200 * 1200 * 3)))
        let replies = try await Self.replies([
            ("/functions/detect", "image/jpeg", big), ("/functions/detect", "image/jpeg", try Self.image("street.jpg")),
        ])
        #expect(replies[0].status == 422 && replies[0].text.contains("1440000"), "\(replies[0].text)")
        #expect(replies[1].status == 200)
    }
}

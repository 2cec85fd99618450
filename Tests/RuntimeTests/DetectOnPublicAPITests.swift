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

/// The detect function on the public API (`functions/detect`) answers byte for byte what the
/// runtime's own detect kind (`DetectKind`, which it replaces in `mscr serve`) answers: the same
/// requests to two servers over the same repository, one with each, compared status, content
/// type and body (JSON, drawn JPEG, errors, V2).
@Suite("detect on the public API equals the built-in kind")
struct DetectOnPublicAPITests {
    struct Call: Sendable {
        var name: String
        var uri: String
        var method: HTTPRequest.Method = .post
        var contentType: String?
        var body: [UInt8]
        var headers: HTTPFields = [:]
    }

    struct Answer: Equatable {
        var status: Int
        var contentType: String?
        var body: [UInt8]
    }

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

    static func answers(kinds: [any FunctionKind], calls: [Call]) async throws -> [Answer] {
        let root = NSTemporaryDirectory() + "mscr-detect-api-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let server = try V2DetectTests.server(root: root, kinds: kinds)
        return try await server.makeApplication(router: server.makeRouter()).test(.router) { client in
            var answers: [Answer] = []
            for call in calls {
                var headers = call.headers
                if let type = call.contentType { headers[.contentType] = type }
                let response = try await client.execute(
                    uri: call.uri, method: call.method, headers: headers,
                    body: call.method == .get ? nil : ByteBuffer(bytes: call.body))
                answers.append(
                    Answer(
                        status: Int(response.status.code), contentType: response.headers[.contentType],
                        body: Array(response.body.readableBytesView)))
            }
            return answers
        }
    }

    @Test("every call: the same status, content type and bytes")
    func sameAnswers() async throws {
        let calls = try Self.calls()
        let builtIn = try await Self.answers(kinds: [DetectKind(), DetectKind(kind: "detect")], calls: calls)
        let typed = try await Self.answers(
            kinds: try TypedFunctionKinds.make([Detect.self, DarknetYOLO.self]), calls: calls)
        #expect(builtIn.count == calls.count && typed.count == calls.count)
        for (call, (old, new)) in zip(calls, zip(builtIn, typed)) {
            #expect(
                old.status == new.status,
                "\(call.name): \(old.status) vs \(new.status) \(String(decoding: new.body.prefix(300), as: UTF8.self))")
            #expect(old.contentType == new.contentType, "\(call.name)")
            #expect(
                old.body == new.body,
                "\(call.name): \(String(decoding: old.body.prefix(300), as: UTF8.self)) vs \(String(decoding: new.body.prefix(300), as: UTF8.self))"
            )
        }
        // The corpus covers answers, drawn images and errors, not only one of them.
        #expect(Set(typed.map(\.status)) == [200, 400, 415, 422])
        #expect(typed.contains { $0.contentType == "image/jpeg" && $0.body.starts(with: [0xFF, 0xD8, 0xFF]) })
    }
}

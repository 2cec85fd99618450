import Foundation
import Functions
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Runtime
import Testing

@Suite("V2 protocol: JSON inference (router level)")
struct V2InferJSONTests {
    @Test("a JSON request with no Content-Type gets every output as JSON, with id and version")
    func jsonInfer() async throws {
        let fixture = try V2Fixture()
        defer { fixture.cleanup() }
        try await fixture.test { client in
            let body = V2Body.tt(x: [[1, 2], [3.5, -1]], s: ["ab", "héllo"], extra: ", \"id\": \"req-7\"")
            try await client.execute(uri: "/v2/models/tt/infer", method: .post, body: body) { r in
                #expect(r.status == .ok, "\(r.text)")
                #expect(r.headers[.contentType] == "application/json")
                #expect(r.headers[HTTPField.Name("Inference-Header-Content-Length")!] == nil)
                #expect((r.headers[HTTPField.Name("Server-Timing")!] ?? "").contains("cold;dur="))
                #expect(r.json["model_name"] as? String == "tt")
                #expect(r.json["model_version"] as? String == "2")
                #expect(r.json["id"] as? String == "req-7")
                let outputs = r.json["outputs"] as? [[String: Any]] ?? []
                #expect(outputs.map { $0["name"] as? String } == ["sum", "lengths", "echo"])
                let o = r.v2Outputs
                #expect(o["sum"]?["datatype"] as? String == "FP32")
                #expect(o["sum"]?["shape"] as? [Int] == [2])
                #expect(o["sum"]?["data"] as? [Double] == [3, 2.5])
                #expect(o["lengths"]?["data"] as? [Int] == [2, 6])
                #expect(o["echo"]?["data"] as? [String] == ["two:ab", "two:héllo"])
            }
        }
    }

    @Test("requested outputs come in the requested order only; a version path runs that version")
    func outputsAndVersions() async throws {
        let fixture = try V2Fixture()
        defer { fixture.cleanup() }
        try await fixture.test { client in
            let body = V2Body.tt(
                x: [[1, 1]], s: ["z"], extra: ", \"outputs\": [{\"name\": \"echo\"}, {\"name\": \"sum\"}]")
            try await client.execute(uri: "/v2/models/tt/versions/1/infer", method: .post, body: body) { r in
                #expect(r.status == .ok, "\(r.text)")
                #expect(r.json["model_version"] as? String == "1")
                let outputs = r.json["outputs"] as? [[String: Any]] ?? []
                #expect(outputs.map { $0["name"] as? String } == ["echo", "sum"])
                #expect(r.v2Outputs["echo"]?["data"] as? [String] == ["one:z"])
            }
            try await client.execute(uri: "/v2/models/tt/infer", method: .post, body: body) { r in
                #expect(r.json["model_version"] as? String == "2")
                #expect(r.v2Outputs["echo"]?["data"] as? [String] == ["two:z"])
            }
            try await client.execute(uri: "/v2/models/tt/versions/9/infer", method: .post, body: body) { r in
                #expect(r.status == .notFound)
                #expect(r.v2Error?.contains("9") == true)
            }
            try await client.execute(uri: "/v2/models/nope/infer", method: .post, body: body) {
                #expect($0.status == .notFound)
            }
        }
    }

    @Test("nested or flat data, and base64 BYTES when content_type says so")
    func dataForms() async throws {
        let fixture = try V2Fixture()
        defer { fixture.cleanup() }
        try await fixture.test { client in
            let body = V2Body.json(
                """
                {"inputs": [{"name": "x", "datatype": "FP32", "shape": [2, 2], "data": [1, 2, 3, 4]},
                 {"name": "s", "datatype": "BYTES", "shape": [1], "data": ["AAEC/w=="], "parameters": {"content_type": "base64"}}],
                 "outputs": [{"name": "sum"}, {"name": "lengths"}]}
                """)
            try await client.execute(uri: "/v2/models/tt/infer", method: .post, body: body) { r in
                #expect(r.status == .ok, "\(r.text)")
                #expect(r.v2Outputs["sum"]?["data"] as? [Double] == [3, 7])
                #expect(r.v2Outputs["lengths"]?["data"] as? [Int] == [4])
            }
        }
    }

    /// Requests that lie or are malformed, each with a word its error message must contain.
    static let lies: [(String, String)] = [
        (
            #"{"inputs": [{"name": "x", "datatype": "FP32", "shape": [2, 2], "data": [1, 2, 3]}, {"name": "s", "datatype": "BYTES", "shape": [0], "data": []}]}"#,
            "3 values"
        ),
        (
            #"{"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 3], "data": [1, 2, 3]}, {"name": "s", "datatype": "BYTES", "shape": [0], "data": []}]}"#,
            "shape"
        ),
        (
            #"{"inputs": [{"name": "x", "datatype": "FP64", "shape": [1, 2], "data": [1, 2]}, {"name": "s", "datatype": "BYTES", "shape": [0], "data": []}]}"#,
            "FP64"
        ),
        (#"{"inputs": [{"name": "x", "datatype": "FP33", "shape": [1, 2], "data": [1, 2]}]}"#, "FP33"),
        (
            #"{"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 2], "data": [1, "2"]}, {"name": "s", "datatype": "BYTES", "shape": [0], "data": []}]}"#,
            "a string"
        ),
        (
            #"{"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 2], "data": [1, true]}, {"name": "s", "datatype": "BYTES", "shape": [0], "data": []}]}"#,
            "a boolean"
        ),
        (
            #"{"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 2], "data": [1, 1e39]}, {"name": "s", "datatype": "BYTES", "shape": [0], "data": []}]}"#,
            "range"
        ),
        (#"{"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 2], "data": [1, 2]}]}"#, "'s' is missing"),
        (
            #"{"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 2], "data": [1, 2]}, {"name": "q", "datatype": "BYTES", "shape": [0], "data": []}]}"#,
            "unknown input 'q'"
        ),
        (
            #"{"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 2], "data": [1, 2]}, {"name": "x", "datatype": "FP32", "shape": [1, 2], "data": [1, 2]}]}"#,
            "more than once"
        ),
        (
            #"{"inputs": [{"name": "x", "datatype": "FP32", "shape": [2147483647, 2147483647, 2147483647], "data": [1]}]}"#,
            "overflows"
        ),
        (#"{"inputs": [{"name": "x", "datatype": "FP32", "shape": [4294967296, 2], "data": [1]}]}"#, "shape"),
        (#"{"inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 2], "data": [1, 2]}]}"#, "non-negative"),
        (
            #"{"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 2], "data": [1, 2]}, {"name": "s", "datatype": "BYTES", "shape": [1], "data": ["%%"], "parameters": {"content_type": "base64"}}]}"#,
            "base64"
        ),
        (
            #"{"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 2], "data": [1, 2]}, {"name": "s", "datatype": "BYTES", "shape": [0], "data": []}], "outputs": [{"name": "nope"}]}"#,
            "no output named 'nope'"
        ),
        (
            #"{"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 2], "data": [1, 2]}, {"name": "s", "datatype": "BYTES", "shape": [0], "data": []}], "parameters": {"binary_data_output": "yes"}}"#,
            "binary_data_output"
        ),
        (#"{"inputs": []}"#, "1 to 64"),
        (#"{"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 2], "data": [1, 2]"#, "not valid JSON"),
        (
            #"{"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 2], "data": [1, 2], "name": "y"}]}"#,
            "duplicate"
        ),
        (#"[1, 2]"#, "JSON object"),
        ("", "not valid JSON"),
    ]

    @Test("malformed requests and shape/datatype/data lies are 400 with a clear message", arguments: lies.indices)
    func rejectsLie(index: Int) async throws {
        let (body, word) = Self.lies[index]
        let fixture = try V2Fixture()
        defer { fixture.cleanup() }
        try await fixture.test { client in
            try await client.execute(uri: "/v2/models/tt/infer", method: .post, body: V2Body.json(body)) { r in
                #expect(r.status == .badRequest, "\(body) → \(r.status) \(r.text)")
                #expect(r.v2Error?.contains(word) == true, "\(body) → \(r.text), wanted '\(word)'")
            }
            // A lie never costs a load.
            try await client.execute(uri: "/v2/models/tt/ready", method: .get) { #expect($0.status == .badRequest) }
        }
    }

    @Test("too many tensors and bodies over the function's limit are refused")
    func bounds() async throws {
        let fixture = try V2Fixture(maxBodyBytes: 20_000)
        defer { fixture.cleanup() }
        try await fixture.test { client in
            let many = (0..<65).map { #"{"name": "x\#($0)", "datatype": "FP32", "shape": [0], "data": []}"# }
            try await client.execute(
                uri: "/v2/models/tt/infer", method: .post,
                body: V2Body.json(#"{"inputs": [\#(many.joined(separator: ","))]}"#)
            ) { r in
                #expect(r.status == .badRequest)
                #expect(r.v2Error?.contains("64") == true)
            }
            let big = ByteBuffer(bytes: [UInt8](repeating: 0x20, count: 20_001))
            try await client.execute(uri: "/v2/models/tt/infer", method: .post, body: big) { r in
                #expect(r.status == .contentTooLarge)
                #expect(r.v2Error != nil)
            }
        }
    }
}

import Foundation
import Functions
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Runtime
import Testing

@Suite("V2 protocol: binary tensor data extension (router level)")
struct V2InferBinaryTests {
    static let headerLength = HTTPField.Name("Inference-Header-Content-Length")!

    /// Splits a binary response into its JSON header and binary section.
    static func split(_ r: TestResponse) -> (json: [String: Any], binary: [UInt8]) {
        let bytes = Array(r.body.readableBytesView)
        let n = Int(r.headers[headerLength] ?? "") ?? bytes.count
        let json = (try? JSONSerialization.jsonObject(with: Data(bytes[0..<n]))) as? [String: Any] ?? [:]
        return (json, Array(bytes[n...]))
    }

    @Test("binary inputs (FP32, length-prefixed BYTES) and binary outputs on request")
    func binaryRoundTrip() async throws {
        let fixture = try V2Fixture()
        defer { fixture.cleanup() }
        let x: [Float] = [1.5, 2, -3, 0.25, 0.5, 7]
        let s: [[UInt8]] = [[0xFF, 0x00, 0xD8], [], Array("text".utf8)]
        let header = """
            {"inputs": [{"name": "x", "datatype": "FP32", "shape": [3, 2], "parameters": {"binary_data_size": 24}},
                        {"name": "s", "datatype": "BYTES", "shape": [3], "parameters": {"binary_data_size": \(V2Body.bytes(s).count)}}],
             "outputs": [{"name": "sum", "parameters": {"binary_data": true}}, {"name": "lengths"},
                         {"name": "echo", "parameters": {"binary_data": true}}]}
            """
        let (body, length) = V2Body.binary(header: header, chunks: [V2Body.fp32(x), V2Body.bytes(s)])
        try await fixture.test { client in
            try await client.execute(
                uri: "/v2/models/tt/infer", method: .post,
                headers: [Self.headerLength: length, .contentType: "application/octet-stream"], body: body
            ) { r in
                #expect(r.status == .ok, "\(r.text)")
                #expect(r.headers[.contentType] == "application/octet-stream")
                let (json, binary) = Self.split(r)
                let outputs = json["outputs"] as? [[String: Any]] ?? []
                #expect(outputs.map { $0["name"] as? String } == ["sum", "lengths", "echo"])
                // `lengths` asked for no binary: JSON data; the others binary, in order.
                #expect(outputs[1]["data"] as? [Int] == [3, 0, 4])
                let sumSize = (outputs[0]["parameters"] as? [String: Any])?["binary_data_size"] as? Int
                let echoSize = (outputs[2]["parameters"] as? [String: Any])?["binary_data_size"] as? Int
                #expect(outputs[0]["data"] == nil)
                #expect(sumSize == 12)
                let expectedEcho = V2Body.bytes(s.map { Array("two:".utf8) + $0 })
                #expect(echoSize == expectedEcho.count)
                #expect(binary == V2Body.fp32([3.5, -2.75, 7.5]) + expectedEcho)
            }
        }
    }

    @Test("binary_data_output makes every output binary; a zero-size binary output still uses the extension")
    func binaryDataOutput() async throws {
        let fixture = try V2Fixture()
        defer { fixture.cleanup() }
        let header = """
            {"parameters": {"binary_data_output": true},
             "inputs": [{"name": "x", "datatype": "FP32", "shape": [0, 2], "data": []},
                        {"name": "s", "datatype": "BYTES", "shape": [0], "data": []}]}
            """
        try await fixture.test { client in
            try await client.execute(uri: "/v2/models/tt/infer", method: .post, body: V2Body.json(header)) { r in
                #expect(r.status == .ok, "\(r.text)")
                #expect(r.headers[.contentType] == "application/octet-stream")
                let (json, binary) = Self.split(r)
                let outputs = json["outputs"] as? [[String: Any]] ?? []
                #expect(outputs.count == 3)
                #expect(outputs.allSatisfy { ($0["parameters"] as? [String: Any])?["binary_data_size"] as? Int == 0 })
                #expect(binary.isEmpty)
            }
        }
    }

    /// Binary bodies that lie: header, then chunks, then the Inference-Header-Content-Length
    /// to send (nil: the true length), and a word the error must contain.
    static let lies: [(String, [[UInt8]], String?, String)] = [
        // 2 x 2 FP32 is 16 bytes, not 12.
        (
            #"{"inputs": [{"name": "x", "datatype": "FP32", "shape": [2, 2], "parameters": {"binary_data_size": 12}}, {"name": "s", "datatype": "BYTES", "shape": [0], "data": []}]}"#,
            [V2Body.fp32([1, 2, 3])], nil, "binary_data_size 12"
        ),
        // Bytes left over after the inputs.
        (
            #"{"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 2], "parameters": {"binary_data_size": 8}}, {"name": "s", "datatype": "BYTES", "shape": [0], "data": []}]}"#,
            [V2Body.fp32([1, 2, 3])], nil, "add up to 8"
        ),
        // Says more bytes than there are.
        (
            #"{"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 2], "parameters": {"binary_data_size": 800}}, {"name": "s", "datatype": "BYTES", "shape": [0], "data": []}]}"#,
            [V2Body.fp32([1, 2])], nil, "800"
        ),
        // BYTES: two elements in the data, shape says one.
        (
            #"{"inputs": [{"name": "x", "datatype": "FP32", "shape": [0, 2], "data": []}, {"name": "s", "datatype": "BYTES", "shape": [1], "parameters": {"binary_data_size": 10}}]}"#,
            [V2Body.bytes([[1], [2]])], nil, "holds more"
        ),
        // BYTES: a length prefix that runs past the chunk.
        (
            #"{"inputs": [{"name": "x", "datatype": "FP32", "shape": [0, 2], "data": []}, {"name": "s", "datatype": "BYTES", "shape": [1], "parameters": {"binary_data_size": 6}}]}"#,
            [[9, 0, 0, 0, 1, 2]], nil, "says 9 bytes"
        ),
        // BYTES: a cut-off length prefix.
        (
            #"{"inputs": [{"name": "x", "datatype": "FP32", "shape": [0, 2], "data": []}, {"name": "s", "datatype": "BYTES", "shape": [1], "parameters": {"binary_data_size": 2}}]}"#,
            [[9, 0]], nil, "cut off"
        ),
        // Both data and binary_data_size.
        (
            #"{"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 2], "data": [1, 2], "parameters": {"binary_data_size": 8}}]}"#,
            [V2Body.fp32([1, 2])], nil, "both"
        ),
        // A header length past the body, and one that is not a number.
        (#"{"inputs": []}"#, [], "9999", "Inference-Header-Content-Length"),
        (#"{"inputs": []}"#, [], "12x", "Inference-Header-Content-Length"),
        // A header length that cuts the JSON.
        (
            #"{"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 2], "data": [1, 2]}]}"#, [], "10",
            "not valid JSON"
        ),
    ]

    @Test("binary lies are 400 with a clear message", arguments: lies.indices)
    func rejectsLie(index: Int) async throws {
        let (header, chunks, declared, word) = Self.lies[index]
        let (body, length) = V2Body.binary(header: header, chunks: chunks)
        let fixture = try V2Fixture()
        defer { fixture.cleanup() }
        try await fixture.test { client in
            try await client.execute(
                uri: "/v2/models/tt/infer", method: .post, headers: [Self.headerLength: declared ?? length], body: body
            ) { r in
                #expect(r.status == .badRequest, "\(header) → \(r.status) \(r.text)")
                #expect(r.v2Error?.contains(word) == true, "\(header) → \(r.text), wanted '\(word)'")
            }
        }
    }
}

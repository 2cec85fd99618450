import Foundation
import Functions
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SwiftProtobuf
import Testing

@testable import Runtime

/// The gRPC V2 service through the router (the calls' HTTP/2 framing is the integration
/// tests'): the same answers as REST V2 for the test tensor function, typed and raw contents,
/// and every error as the call's status in its trailers.
@Suite("gRPC V2 service (router level)")
struct GRPCServiceTests {
    static let grpc: HTTPFields = [.contentType: "application/grpc"]

    /// Calls `method` with `message` framed; the reply's status code, message and payload.
    static func call(_ client: some TestClientProtocol, _ method: String, _ message: some SwiftProtobuf.Message)
        async throws -> (code: String?, message: String?, reply: [UInt8])
    {
        try await call(client, method, body: Array(GRPCFraming.frame(try message.serializedBytes()).readableBytesView))
    }

    static func call(_ client: some TestClientProtocol, _ method: String, body: [UInt8]) async throws
        -> (code: String?, message: String?, reply: [UInt8])
    {
        try await client.execute(
            uri: "/inference.GRPCInferenceService/\(method)", method: .post, headers: grpc,
            body: ByteBuffer(bytes: body)
        ) { r in
            #expect(r.status == .ok)
            #expect(r.headers[.contentType] == "application/grpc")
            let bytes = Array(r.body.readableBytesView)
            let reply = bytes.isEmpty ? [] : Array(try GRPCFraming.unaryMessage(bytes, limit: 1 << 24))
            return (
                r.trailerHeaders?[GRPCStatus.statusName], r.trailerHeaders?[GRPCStatus.messageName], reply
            )
        }
    }

    static func ttRequest(raw: Bool) -> Inference_ModelInferRequest {
        let x: [Float] = [1.5, 2, -3, 0.25]
        let s: [[UInt8]] = [[0xFF, 0], Array("text".utf8)]
        var request = Inference_ModelInferRequest()
        request.modelName = "tt"
        request.id = "r1"
        var xInput = Inference_ModelInferRequest.InferInputTensor()
        xInput.name = "x"
        xInput.datatype = "FP32"
        xInput.shape = [2, 2]
        var sInput = Inference_ModelInferRequest.InferInputTensor()
        sInput.name = "s"
        sInput.datatype = "BYTES"
        sInput.shape = [2]
        if raw {
            request.rawInputContents = [Data(V2Body.fp32(x)), Data(V2Body.bytes(s))]
        } else {
            xInput.contents.fp32Contents = x
            sInput.contents.bytesContents = s.map { Data($0) }
        }
        request.inputs = [xInput, sInput]
        return request
    }

    @Test("ModelInfer, typed and raw contents: REST V2's outputs, as raw_output_contents")
    func inferEqualsREST() async throws {
        let fixture = try V2Fixture()
        defer { fixture.cleanup() }
        try await fixture.test { client in
            // REST V2, every output binary: the reference bytes.
            let (body, length) = V2Body.binary(
                header: """
                    {"inputs": [{"name": "x", "datatype": "FP32", "shape": [2, 2], "parameters": {"binary_data_size": 16}},
                                {"name": "s", "datatype": "BYTES", "shape": [2], "parameters": {"binary_data_size": 14}}],
                     "parameters": {"binary_data_output": true}}
                    """, chunks: [V2Body.fp32([1.5, 2, -3, 0.25]), V2Body.bytes([[0xFF, 0], Array("text".utf8)])])
            let rest = try await client.execute(
                uri: "/v2/models/tt/infer", method: .post,
                headers: [V2InferBinaryTests.headerLength: length], body: body
            ) { r in V2InferBinaryTests.split(r).binary }
            // sum, lengths (INT32 little-endian 2 and 4), echo: worked out by hand.
            let lengths: [UInt8] = [2, 0, 0, 0, 4, 0, 0, 0]
            #expect(
                rest == V2Body.fp32([3.5, -2.75]) + lengths
                    + V2Body.bytes([Array("two:".utf8) + [0xFF, 0], Array("two:text".utf8)]))
            for raw in [false, true] {
                let (code, _, reply) = try await Self.call(client, "ModelInfer", Self.ttRequest(raw: raw))
                #expect(code == "0")
                let response = try Inference_ModelInferResponse(serializedBytes: reply)
                #expect(response.modelName == "tt" && response.modelVersion == "2" && response.id == "r1")
                #expect(response.outputs.map(\.name) == ["sum", "lengths", "echo"])
                #expect(response.outputs.map(\.datatype) == ["FP32", "INT32", "BYTES"])
                #expect(response.outputs.map(\.shape) == [[2], [2], [2]])
                #expect(response.rawOutputContents.flatMap { Array($0) } == rest)
            }
        }
    }

    @Test("the requested outputs, in the request's order")
    func requestedOutputs() async throws {
        let fixture = try V2Fixture()
        defer { fixture.cleanup() }
        try await fixture.test { client in
            var request = Self.ttRequest(raw: true)
            request.outputs = [.with { $0.name = "echo" }, .with { $0.name = "sum" }]
            let (code, _, reply) = try await Self.call(client, "ModelInfer", request)
            #expect(code == "0")
            let response = try Inference_ModelInferResponse(serializedBytes: reply)
            #expect(response.outputs.map(\.name) == ["echo", "sum"])
            #expect(Array(response.rawOutputContents[1]) == V2Body.fp32([3.5, -2.75]))
        }
    }

    @Test("errors: the status REST's error maps to, in the trailers")
    func errors() async throws {
        let fixture = try V2Fixture()
        defer { fixture.cleanup() }
        try await fixture.test { client in
            var unknown = Self.ttRequest(raw: true)
            unknown.modelName = "nope"
            var (code, message, reply) = try await Self.call(client, "ModelInfer", unknown)
            #expect(code == "5" && reply.isEmpty && message?.contains("unknown model 'nope'") == true)
            var wrongType = Self.ttRequest(raw: false)
            wrongType.inputs[0].datatype = "INT32"
            (code, message, _) = try await Self.call(client, "ModelInfer", wrongType)
            #expect(code == "3" && message?.contains("fp32_contents") == true, "\(message ?? "")")
            var bothKinds = Self.ttRequest(raw: true)
            bothKinds.inputs[0].contents.fp32Contents = [1, 2, 3, 4]
            (code, message, _) = try await Self.call(client, "ModelInfer", bothKinds)
            #expect(code == "3" && message?.contains("both") == true)
            var missingRaw = Self.ttRequest(raw: true)
            missingRaw.rawInputContents.removeLast()
            (code, _, _) = try await Self.call(client, "ModelInfer", missingRaw)
            #expect(code == "3")
            var badVersion = Self.ttRequest(raw: true)
            badVersion.modelVersion = "9"
            (code, _, _) = try await Self.call(client, "ModelInfer", badVersion)
            #expect(code == "5")
            var broken = Self.ttRequest(raw: true)
            broken.modelName = "broken"
            (code, _, _) = try await Self.call(client, "ModelInfer", broken)
            #expect(code == "14")
            // Not a ModelInferRequest: a field 5 (inputs) whose length runs past the end.
            (code, message, _) = try await Self.call(
                client, "ModelInfer", body: Array(GRPCFraming.frame([0x2A, 0x80, 0x80, 0x04]).readableBytesView))
            #expect(code == "3" && message?.contains("not a valid inference.ModelInferRequest") == true)
            (code, _, _) = try await Self.call(client, "ModelInfer", body: [0, 0, 0])
            #expect(code == "3")
            (code, _, _) = try await Self.call(
                client, "RepositoryIndex", body: Array(GRPCFraming.frame([]).readableBytesView))
            #expect(code == "12")
            try await client.execute(
                uri: "/inference.GRPCInferenceService/ServerLive", method: .post, headers: [.contentType: "text/plain"]
            ) { r in #expect(r.status == .unsupportedMediaType) }
        }
    }

    @Test("health, server and model metadata, readiness: what REST V2 says")
    func metadata() async throws {
        let fixture = try V2Fixture()
        defer { fixture.cleanup() }
        try await fixture.test { client in
            var (code, _, reply) = try await Self.call(client, "ServerLive", Inference_ServerLiveRequest())
            #expect(code == "0")
            #expect(try Inference_ServerLiveResponse(serializedBytes: reply).live)
            (code, _, reply) = try await Self.call(client, "ServerMetadata", Inference_ServerMetadataRequest())
            let server = try Inference_ServerMetadataResponse(serializedBytes: reply)
            #expect(server.name == "mscr" && server.extensions == ["binary_tensor_data"])
            (code, _, reply) = try await Self.call(
                client, "ModelReady", Inference_ModelReadyRequest.with { $0.name = "tt" })
            #expect(code == "0")
            #expect(try !Inference_ModelReadyResponse(serializedBytes: reply).ready)
            (code, _, reply) = try await Self.call(
                client, "ModelMetadata", Inference_ModelMetadataRequest.with { $0.name = "tt" })
            let model = try Inference_ModelMetadataResponse(serializedBytes: reply)
            #expect(model.name == "tt" && model.versions == ["1", "2"] && model.platform == "mscr-test-tensor")
            #expect(model.inputs.map(\.name) == ["x", "s"] && model.inputs[0].shape == [-1, 2])
            #expect(model.outputs.map(\.datatype) == ["FP32", "INT32", "BYTES"])
            (code, _, _) = try await Self.call(client, "ModelInfer", Self.ttRequest(raw: true))
            (code, _, reply) = try await Self.call(
                client, "ModelReady", Inference_ModelReadyRequest.with { $0.name = "tt" })
            #expect(code == "0")
            #expect(try Inference_ModelReadyResponse(serializedBytes: reply).ready)
            (code, _, _) = try await Self.call(
                client, "ModelReady", Inference_ModelReadyRequest.with { $0.name = "nope" })
            #expect(code == "5")
        }
    }
}

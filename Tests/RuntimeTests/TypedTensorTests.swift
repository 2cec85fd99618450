import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import MSCRFunctions
import MSCRTesting
import SwiftProtobuf
import Testing

@testable import Runtime

/// A typed function with a tensor interface through the real host and routes: V2 metadata,
/// infer in JSON and binary, gRPC ModelInfer, and the protocol's errors.
@Suite struct TypedTensorTests {
    /// Sums `values`, counts them, and answers `<model text>:<label>`.
    struct SumLabel: InferenceFunction, TensorInterface {
        struct Input: Decodable, Sendable {
            var values: [Float]
            var label: String
        }
        struct Output: Codable, Sendable, Equatable {
            var sum: Float
            var count: Int
            var echo: String
        }
        typealias Model = TypedFunctionTests.EchoContext.Model
        static let kind = "sum-label"
        static let inputTensors = [TensorDescriptor("values", .fp32, [-1]), TensorDescriptor("label", .bytes, [1])]
        static let outputTensors = [
            TensorDescriptor("sum", .fp32, [1]), TensorDescriptor("count", .int64, [1]),
            TensorDescriptor("echo", .bytes, [1]),
        ]

        init(parameters: FunctionParameters) throws {}

        func handle(_ input: Input, model: Model, context: FunctionContext) throws -> Output {
            guard input.label != "refuse" else { throw FunctionFailure.unprocessable("'refuse' is refused") }
            guard context.remainingTime > .zero else { throw FunctionFailure.internal("no deadline") }
            return Output(
                sum: input.values.reduce(0, +), count: input.values.count, echo: model.text + ":" + input.label)
        }

        func input(from tensors: TensorInputs) throws -> Input {
            let label = try tensors.tensor("label").singleByteString()
            guard let text = String(validating: label, as: UTF8.self) else {
                throw FunctionFailure.invalidInput("input 'label' must be UTF-8 text")
            }
            return Input(values: try tensors.tensor("values").floats(), label: text)
        }

        func outputTensors(from output: Output) throws -> [NamedTensor] {
            [
                try NamedTensor(name: "sum", shape: [1], elements: .fp32([output.sum])),
                try NamedTensor(name: "count", shape: [1], elements: .int64([Int64(output.count)])),
                try NamedTensor(name: "echo", shape: [1], elements: .bytes([Array(output.echo.utf8)])),
            ]
        }
    }

    static func inputs(_ values: [Float], _ label: String) throws -> [NamedTensor] {
        [
            try NamedTensor(name: "values", shape: [values.count], elements: .fp32(values)),
            try NamedTensor(name: "label", shape: [1], elements: .bytes([Array(label.utf8)])),
        ]
    }

    @Test("metadata: the declared tensors, the kind as platform, the repository's versions")
    func metadata() async throws {
        let repository = try TypedFunctionTests.repository("m")
        defer { repository.remove() }
        _ = try repository.publish(files: ["model.txt": Array("n".utf8)], format: "test", as: "t-model")
        try await FunctionTester.run(SumLabel.self, model: "t-model", repository: repository.uri, name: "sl") {
            client in
            let metadata = try await client.tensorMetadata()
            #expect(metadata.name == "sl" && metadata.platform == "sum-label" && metadata.versions == ["1", "2"])
            #expect(metadata.inputs == SumLabel.inputTensors)
            #expect(metadata.outputs == SumLabel.outputTensors)
        }
    }

    @Test(
        "infer in JSON and binary: the handler's answer, the same as POST /functions/<name>",
        arguments: [FunctionTester.Transport.router, .live])
    func infer(transport: FunctionTester.Transport) async throws {
        let repository = try TypedFunctionTests.repository("model")
        defer { repository.remove() }
        try await FunctionTester.run(
            SumLabel.self, model: "t-model", repository: repository.uri, transport: transport
        ) { client in
            let values: [Float] = [1.5, 2.25, -0.5, 1e-3]
            let expectedSum = ((1.5 + 2.25) - 0.5) + Float(1e-3)
            for binary in [false, true] {
                let response = try await client.infer(try Self.inputs(values, "héllo"), binary: binary)
                #expect(response.status == 200, "\(response.text)")
                #expect(response.modelVersion == "1")
                #expect((response.headerLength != nil) == binary)
                #expect(response.outputs?.map(\.name) == ["sum", "count", "echo"])
                #expect(try response.output("sum")?.floats() == [expectedSum])
                #expect(try response.output("count")?.integers() == [4])
                #expect(try response.output("echo")?.byteStrings() == [Array("model:héllo".utf8)])
            }
            struct Body: Encodable {
                var values: [Float]
                var label: String
            }
            let rest = try #require(try await client.invoke(json: Body(values: values, label: "héllo")).output)
            #expect(rest == SumLabel.Output(sum: expectedSum, count: 4, echo: "model:héllo"))

            let some = try await client.infer(try Self.inputs([1], "a"), outputs: ["echo"])
            #expect(some.outputs?.map(\.name) == ["echo"])
        }
    }

    @Test("errors: missing or mistyped inputs, a refusal, an unknown output, a malformed request")
    func errors() async throws {
        let repository = try TypedFunctionTests.repository()
        defer { repository.remove() }
        try await FunctionTester.run(SumLabel.self, model: "t-model", repository: repository.uri) { client in
            let missing = try await client.infer([try NamedTensor(name: "values", shape: [1], elements: .fp32([1]))])
            #expect(missing.status == 400)
            #expect(missing.error == "input 'label' is missing", "\(missing.text)")

            let mistyped = try await client.infer([
                try NamedTensor(name: "values", shape: [1], elements: .fp64([1])),
                try NamedTensor(name: "label", shape: [1], elements: .bytes([[65]])),
            ])
            #expect(mistyped.status == 400)
            #expect(mistyped.error == "input 'values' has datatype FP64, the model takes FP32", "\(mistyped.text)")

            // V2 answers the client's errors 400 (a 422 on POST /functions/<name>).
            let refused = try await client.infer(try Self.inputs([1], "refuse"))
            #expect(refused.status == 400)
            #expect(refused.error == "'refuse' is refused")

            let notText = try await client.infer([
                try NamedTensor(name: "values", shape: [1], elements: .fp32([1])),
                try NamedTensor(name: "label", shape: [1], elements: .bytes([[0xFF, 0xFE]])),
            ])
            #expect(notText.status == 400)
            #expect(notText.error == "input 'label' must be UTF-8 text")

            let unknown = try await client.infer(try Self.inputs([1], "a"), outputs: ["nope"])
            #expect(unknown.status == 400)
            #expect(unknown.error?.contains("no output named 'nope'") == true, "\(unknown.text)")

            let malformed = try await client.infer(body: Array("{\"inputs\": 3}".utf8))
            #expect(malformed.status == 400)
            #expect(malformed.error == "'inputs' must be an array of tensors")
        }
    }

    @Test("gRPC ModelInfer: the same outputs as REST V2, errors as the call's status")
    func grpc() async throws {
        let repository = try TypedFunctionTests.repository("g")
        defer { repository.remove() }
        let root = NSTemporaryDirectory() + "mscr-typed-grpc-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        for (name, kind) in [("sl", "sum-label"), ("plain", "echo-context")] {
            try FileManager.default.createDirectory(atPath: root + "/" + name, withIntermediateDirectories: true)
            try #"{"name": "\#(name)", "kind": "\#(kind)", "model": "t-model", "version": "latest"}"#.write(
                toFile: root + "/\(name)/function.json", atomically: true, encoding: .utf8)
        }
        var configuration = RuntimeConfiguration()
        configuration.port = 0
        configuration.host = "127.0.0.1"
        configuration.functionsDirectory = root
        configuration.modelRepository = repository.uri
        let server = try MSCRServer(
            configuration: configuration, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
            extraKinds: try TypedFunctionKinds.make([SumLabel.self, TypedFunctionTests.EchoContext.self]))
        try await server.makeApplication(router: server.makeRouter()).test(.router) { client in
            var request = Inference_ModelInferRequest()
            request.modelName = "sl"
            var values = Inference_ModelInferRequest.InferInputTensor()
            values.name = "values"
            values.datatype = "FP32"
            values.shape = [3]
            values.contents.fp32Contents = [1, 2, 4.5]
            var label = Inference_ModelInferRequest.InferInputTensor()
            label.name = "label"
            label.datatype = "BYTES"
            label.shape = [1]
            label.contents.bytesContents = [Data("x".utf8)]
            request.inputs = [values, label]
            let (code, _, reply) = try await GRPCServiceTests.call(client, "ModelInfer", request)
            #expect(code == "0")
            let response = try Inference_ModelInferResponse(serializedBytes: reply)
            #expect(response.modelName == "sl" && response.modelVersion == "1")
            #expect(response.outputs.map(\.name) == ["sum", "count", "echo"])
            #expect(response.outputs.map(\.datatype) == ["FP32", "INT64", "BYTES"])
            let raw = response.rawOutputContents.map { Array($0) }
            #expect(raw.count == 3)
            #expect(raw.first == withUnsafeBytes(of: Float(7.5).bitPattern.littleEndian) { Array($0) })
            #expect(raw.dropFirst().first == withUnsafeBytes(of: Int64(3).littleEndian) { Array($0) })
            #expect(raw.last == [3, 0, 0, 0] + Array("g:x".utf8))

            label.contents.bytesContents = [Data("refuse".utf8)]
            request.inputs = [values, label]
            let (refusedCode, message, _) = try await GRPCServiceTests.call(client, "ModelInfer", request)
            #expect(refusedCode != "0" && refusedCode != nil)
            #expect(message?.contains("'refuse' is refused") == true)

            var metadata = Inference_ModelMetadataRequest()
            metadata.name = "sl"
            let (metadataCode, _, metadataReply) = try await GRPCServiceTests.call(client, "ModelMetadata", metadata)
            #expect(metadataCode == "0")
            let described = try Inference_ModelMetadataResponse(serializedBytes: metadataReply)
            #expect(described.platform == "sum-label")
            #expect(described.inputs.map(\.name) == ["values", "label"])
            #expect(described.outputs.map(\.shape) == [[1], [1], [1]])

            // A typed function without a tensor interface is no V2 model.
            metadata.name = "plain"
            let (plainCode, plainMessage, _) = try await GRPCServiceTests.call(client, "ModelMetadata", metadata)
            #expect(plainCode == "5")
            #expect(plainMessage?.contains("unknown model 'plain' (models: sl)") == true, "\(plainMessage ?? "")")
        }
    }
}

import Foundation
import MSCRFunctions
import MSCRTesting
import Runtime
import Testing

/// A typed function through the real host and routes (MSCRTesting): what its context says, how
/// its failures and a wrong model format reach the client, and which registrations are refused.
@Suite struct TypedFunctionTests {
    /// Answers with what the runtime told it.
    struct EchoContext: InferenceFunction {
        struct Input: Decodable, Sendable { var word: String? }
        struct Output: Codable, Sendable {
            var function: String
            var model: String
            var version: Int
            var coldWaitMs: Double?
            var loadedBytes: Int?
            var trace: String?
            var remainingMs: Double
            var text: String
            var suffix: String
        }
        /// `model.txt` of a `test`-format version.
        struct Model: FunctionModel {
            static let formats = ["test"]
            let text: String
            init(files: ModelFiles, parameters: FunctionParameters) throws {
                text = String(decoding: try files.read("model.txt"), as: UTF8.self)
            }
        }
        static let kind = "echo-context"
        let repeats: Int

        init(parameters: FunctionParameters) throws {
            repeats = try parameters.int("repeats", default: 1, in: 1...3)
        }

        func handle(_ input: Input, model: Model, context: FunctionContext) throws -> Output {
            if input.word == "refuse" { throw FunctionFailure.unprocessable("'refuse' is refused") }
            return Output(
                function: context.functionName, model: context.modelName, version: context.modelVersion,
                coldWaitMs: context.coldStart?.waitMs, loadedBytes: context.coldStart?.bytes, trace: context.traceID,
                remainingMs: Double(context.remainingTime.components.seconds) * 1000
                    + Double(context.remainingTime.components.attoseconds) / 1e15,
                text: model.text, suffix: String(repeating: input.word ?? "", count: repeats))
        }
    }

    /// The same function for a format the repository does not hold.
    struct WrongFormat: InferenceFunction {
        typealias Input = EchoContext.Input
        typealias Output = EchoContext.Output
        struct Model: FunctionModel {
            static let formats = ["onnx"]
            init(files: ModelFiles, parameters: FunctionParameters) throws {}
        }
        static let kind = "wrong-format"
        init(parameters: FunctionParameters) throws {}
        func handle(_ input: Input, model: Model, context: FunctionContext) throws -> Output {
            throw FunctionFailure.internal("unreachable: the model never loads")
        }
    }

    static func repository(_ text: String = "hello") throws -> TestRepository {
        let repository = try TestRepository()
        try repository.publish(files: ["model.txt": Array(text.utf8)], format: "test", as: "t-model")
        return repository
    }

    @Test("the context: names, version, the cold load once, the trace, the time left")
    func context() async throws {
        let repository = try Self.repository("weights")
        defer { repository.remove() }
        try await FunctionTester.run(
            EchoContext.self, model: "t-model", repository: repository.uri, name: "echo", params: ["repeats": 2],
            requestTimeout: .seconds(30)
        ) { client in
            let trace = "0af7651916cd43dd8448eb211c80319c"
            let cold = try await client.invoke(
                body: [], contentType: nil, query: ["word": "ab"],
                headers: ["traceparent": "00-\(trace)-b7ad6b7169203331-01"])
            let first = try #require(cold.output, "\(cold.text)")
            #expect(first.function == "echo" && first.model == "t-model" && first.version == 1)
            #expect(first.text == "weights" && first.suffix == "abab")
            #expect(first.coldWaitMs != nil)
            #expect(first.loadedBytes ?? 0 >= "weights".utf8.count)
            #expect(first.trace == trace)
            #expect(first.remainingMs > 0 && first.remainingMs <= 30_000)
            let warm = try #require(try await client.invoke(body: [], contentType: nil).output)
            #expect(warm.coldWaitMs == nil && warm.loadedBytes == nil && warm.trace == nil)
        }
    }

    @Test("a FunctionFailure keeps its status and message; JSON input works too")
    func failures() async throws {
        let repository = try Self.repository()
        defer { repository.remove() }
        try await FunctionTester.run(EchoContext.self, model: "t-model", repository: repository.uri) { client in
            let refused = try await client.invoke(body: [], contentType: nil, query: ["word": "refuse"])
            #expect(refused.status == 422)
            #expect(refused.error == .init(code: "unprocessable", message: "'refuse' is refused"))
            struct Body: Encodable { var word: String }
            let json = try await client.invoke(json: Body(word: "x"))
            #expect(json.output?.suffix == "x")
        }
    }

    @Test("a model version in a format the function does not load: 503 naming both formats")
    func wrongFormat() async throws {
        let repository = try Self.repository()
        defer { repository.remove() }
        try await FunctionTester.run(WrongFormat.self, model: "t-model", repository: repository.uri) { client in
            let response = try await client.invoke(body: [], contentType: nil)
            #expect(response.status == 503)
            #expect(response.error?.message.contains("format 'test'") == true, "\(response.text)")
            #expect(response.error?.message.contains("onnx") == true)
        }
    }

    @Test("a bad params value stops the start; two functions cannot share a kind or take a built-in one")
    func refusedRegistrations() async throws {
        let repository = try Self.repository()
        defer { repository.remove() }
        await #expect {
            try await FunctionTester.run(
                EchoContext.self, model: "t-model", repository: repository.uri, params: ["repeats": 9]
            ) { _ in }
        } throws: { error in
            "\(error)".contains("function.json: \"params.repeats\" must be an integer in 1...3, got 9")
        }
        #expect(throws: (any Error).self) { try TypedFunctionKinds.make([EchoContext.self, EchoContext.self]) }
        struct Impostor: InferenceFunction {
            typealias Input = EchoContext.Input
            typealias Output = EchoContext.Output
            typealias Model = EchoContext.Model
            static let kind = "mscr-test"
            init(parameters: FunctionParameters) throws {}
            func handle(_ input: Input, model: Model, context: FunctionContext) throws -> Output {
                throw FunctionFailure.internal("unreachable")
            }
        }
        #expect(throws: (any Error).self) { try TypedFunctionKinds.make([Impostor.self]) }
        #expect(
            try TypedFunctionKinds.make([EchoContext.self, WrongFormat.self]).map(\.kind) == [
                "echo-context", "wrong-format",
            ])
    }
}

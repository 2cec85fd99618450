import Foundation
import Functions
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import MSCRFunctions
import ObjectStore
import Runtime
import Stock
import Testing

/// The stock function under a kind name of its own, so that it can be served beside the runtime's
/// built-in `lstm-regressor` kind it replaces.
struct StockUnderTest: StockForecasting {
    static let kind = "stock-public-api"
    init(parameters: FunctionParameters) throws {}
}

/// The stock function on the public API (`functions/stock`) answers byte for byte what the
/// runtime's own `lstm-regressor` kind (`StockKind`) answers: the same requests to two servers
/// over the same repository (an mscr LSTM and the committed ONNX LSTM with its scaler), one with
/// each, compared status, content type and body (JSON, SVG charts, errors, V2 metadata and infer).
@Suite("stock on the public API equals the built-in kind")
struct StockOnPublicAPITests {
    typealias Call = DetectOnPublicAPITests.Call
    typealias Answer = DetectOnPublicAPITests.Answer

    static let keras = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Integration/fixtures/keras-lstm").standardized.path

    /// `stock` on a seeded mscr LSTM (window 5), `keras` on the ONNX export (window 7).
    static func server(root: String, kind: String, extraKinds: [any FunctionKind]) throws -> MSCRServer {
        let fm = FileManager.default
        for (name, model) in [("stock", "stock-lstm"), ("keras", "keras-lstm")] {
            try fm.createDirectory(atPath: root + "/functions/" + name, withIntermediateDirectories: true)
            try #"{"name": "\#(name)", "kind": "\#(kind)", "model": "\#(model)"}"#.write(
                toFile: root + "/functions/\(name)/function.json", atomically: true, encoding: .utf8)
        }
        let repository = ModelRepository(store: FileObjectStore(root: root + "/models"))
        try repository.publish(
            model: "stock-lstm", format: "lstm-regressor",
            files: ["model.json": try V2StockTests.model(window: 5).encoded()])
        try repository.publish(
            model: "keras-lstm", format: "onnx",
            files: [
                "model.onnx": Array(try Data(contentsOf: URL(fileURLWithPath: keras + "/model.onnx"))),
                "scaler.json": Array(try Data(contentsOf: URL(fileURLWithPath: keras + "/scaler.json"))),
            ])
        var c = RuntimeConfiguration()
        c.port = 0
        c.functionsDirectory = root + "/functions"
        c.modelRepository = "file://" + root + "/models"
        return try MSCRServer(
            configuration: c, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }, extraKinds: extraKinds)
    }

    static func csv(_ rows: [[Double]]) -> [UInt8] {
        Array(rows.map { $0.map { String($0) }.joined(separator: ",") }.joined(separator: "\n").utf8)
    }

    static func v2(_ shape: [Int], _ values: [Double]) -> [UInt8] {
        let data = values.map { String($0) }.joined(separator: ",")
        return Array(
            #"{"inputs": [{"name": "window", "datatype": "FP32", "shape": \#(shape), "data": [\#(data)]}]}"#.utf8)
    }

    static func calls() throws -> [Call] {
        let rows = V2StockTests.rows(40, seed: 7)
        let text = csv(rows)
        let goog = Array(
            try Data(contentsOf: URL(fileURLWithPath: V2DetectTests.shared + "/data/stock/goog-daily.csv")))
        let dated =
            "Date,Open,High,Low,Close,Adj Close,Volume\n"
            + rows.enumerated().map { i, r in
                "2017-01-\(31 - i % 20),\(r[0]),\(r[1]),\(r[2]),\(r[4]),\(r[4]),\(Int(r[3]))"
            }.prefix(20).joined(separator: "\n")
        let yahoo = Array(dated.utf8)
        let json = Array(#"{"rows": \#(rows)}"#.utf8)
        let datedJSON = Array(
            #"{"rows": \#(Array(rows.prefix(9))), "dates": \#((1...9).map { "2020-03-0\($0)" })}"#.utf8)
        let boundary = "b0undary"
        let form =
            Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.csv\"\r\n\r\n".utf8)
            + text + Array("\r\n--\(boundary)--\r\n".utf8)
        let windows5 = Array(rows[0..<10]).flatMap { $0 }
        let windows7 = Array(rows[0..<14]).flatMap { $0 }
        let (binaryBody, binaryLength) = V2Body.binary(
            header: #"""
                {"inputs": [{"name": "window", "datatype": "FP32", "shape": [2, 5, 5], "parameters": {"binary_data_size": 200}}]}
                """#,
            chunks: [V2Body.fp32(windows5.map(Float.init))])
        let (nanBody, nanLength) = V2Body.binary(
            header: #"""
                {"inputs": [{"name": "window", "datatype": "FP32", "shape": [1, 5, 5], "parameters": {"binary_data_size": 100}}]}
                """#,
            chunks: [V2Body.fp32([Float.nan] + windows5.prefix(24).map(Float.init))])
        return [
            Call(name: "v2 metadata, cold", uri: "/v2/models/stock", method: .get, contentType: nil, body: []),
            Call(name: "csv", uri: "/functions/stock", contentType: "text/csv", body: text),
            Call(name: "csv, no type", uri: "/functions/stock", contentType: nil, body: text),
            Call(name: "newest first", uri: "/functions/stock?order=newest-first", contentType: "text/csv", body: text),
            Call(name: "goog", uri: "/functions/stock?order=desc", contentType: "text/csv", body: goog),
            Call(name: "yahoo", uri: "/functions/stock", contentType: "text/csv", body: yahoo),
            Call(name: "json", uri: "/functions/stock", contentType: "application/json", body: json),
            Call(name: "json, no type", uri: "/functions/stock", contentType: nil, body: json),
            Call(name: "json with dates", uri: "/functions/stock", contentType: "application/json", body: datedJSON),
            Call(name: "svg", uri: "/functions/stock?format=svg", contentType: "text/csv", body: text),
            Call(name: "svg, dates", uri: "/functions/stock?format=SVG", contentType: "text/csv", body: yahoo),
            Call(
                name: "multipart", uri: "/functions/stock?format=json",
                contentType: "multipart/form-data; boundary=\(boundary)", body: form),
            Call(
                name: "multipart without file", uri: "/functions/stock",
                contentType: "multipart/form-data; boundary=x", body: Array("--x--".utf8)),
            Call(name: "bad format", uri: "/functions/stock?format=png&order=up", contentType: "image/png", body: []),
            Call(name: "bad order", uri: "/functions/stock?order=up", contentType: "image/png", body: []),
            Call(name: "image", uri: "/functions/stock", contentType: "image/jpeg", body: [0xFF, 0xD8, 0xFF]),
            Call(name: "empty", uri: "/functions/stock", contentType: "text/csv", body: []),
            Call(
                name: "too few rows", uri: "/functions/stock", contentType: "text/csv", body: csv(Array(rows.prefix(5)))
            ),
            Call(name: "not a number", uri: "/functions/stock", contentType: nil, body: Array("1,2,3,4,x\n".utf8)),
            Call(name: "nan", uri: "/functions/stock", contentType: nil, body: Array("1,2,3,4,nan\n".utf8)),
            Call(
                name: "bad json", uri: "/functions/stock", contentType: "application/json",
                body: Array("{\"rows\": 1}".utf8)),
            Call(name: "v2 metadata, warm", uri: "/v2/models/stock", method: .get, contentType: nil, body: []),
            Call(
                name: "v2 json", uri: "/v2/models/stock/infer", contentType: "application/json",
                body: v2([2, 5, 5], windows5)),
            Call(
                name: "v2 binary", uri: "/v2/models/stock/infer", contentType: "application/octet-stream",
                body: Array(binaryBody.readableBytesView), headers: [V2InferBinaryTests.headerLength: binaryLength]),
            Call(
                name: "v2 wrong window", uri: "/v2/models/stock/infer", contentType: "application/json",
                body: v2([2, 7, 5], windows7)),
            Call(
                name: "v2 nan", uri: "/v2/models/stock/infer", contentType: "application/octet-stream",
                body: Array(nanBody.readableBytesView), headers: [V2InferBinaryTests.headerLength: nanLength]),
            Call(
                name: "v2 empty batch", uri: "/v2/models/stock/infer", contentType: "application/json",
                body: v2([0, 5, 5], [])),
            Call(name: "onnx csv", uri: "/functions/keras", contentType: "text/csv", body: text),
            Call(
                name: "onnx goog svg", uri: "/functions/keras?format=svg&order=newest-first", contentType: nil,
                body: goog),
            Call(
                name: "onnx v2", uri: "/v2/models/keras/infer", contentType: "application/json",
                body: v2([2, 7, 5], windows7)),
            Call(name: "onnx v2 metadata", uri: "/v2/models/keras", method: .get, contentType: nil, body: []),
        ]
    }

    static func answers(kind: String, extraKinds: [any FunctionKind], calls: [Call]) async throws -> [Answer] {
        let root = NSTemporaryDirectory() + "mscr-stock-api-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let server = try server(root: root, kind: kind, extraKinds: extraKinds)
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

    /// The answers the built-in kind gave to ``calls()`` (recorded with
    /// `MSCR_RECORD_STOCK_ANSWERS=1 swift test --filter StockOnPublicAPITests` while it existed).
    static let recordedPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Integration/fixtures/stock-public-api/answers.json").standardized.path

    static func record(_ answers: [Answer], calls: [Call]) throws {
        let list: [[String: Any]] = zip(calls, answers).map { call, answer in
            [
                "name": call.name, "status": answer.status, "content_type": answer.contentType ?? NSNull(),
                "body": String(decoding: answer.body, as: UTF8.self),
            ]
        }
        try FileManager.default.createDirectory(
            atPath: (recordedPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: list, options: [.prettyPrinted, .sortedKeys])
            .write(to: URL(fileURLWithPath: recordedPath))
    }

    static func recorded() throws -> [(name: String, answer: Answer)] {
        let data = try Data(contentsOf: URL(fileURLWithPath: recordedPath))
        let list = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        return try list.map { item in
            (
                try #require(item["name"] as? String),
                Answer(
                    status: try #require(item["status"] as? Int), contentType: item["content_type"] as? String,
                    body: Array(try #require(item["body"] as? String).utf8))
            )
        }
    }

    /// Whether two texts are the same but for the last digits of their numbers (a model's
    /// arithmetic may round differently on another CPU's kernels): the text between numbers is
    /// equal, and each number is within 1e-3 + 1e-6 × its size of the other's.
    static func sameUpToRounding(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        func split(_ bytes: [UInt8]) -> (text: [String], numbers: [Double]) {
            let s = String(decoding: bytes, as: UTF8.self)
            let regex = /-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?/
            var text: [String] = []
            var numbers: [Double] = []
            var rest = s[...]
            while let match = rest.firstMatch(of: regex) {
                text.append(String(rest[..<match.range.lowerBound]))
                numbers.append(Double(match.output.0) ?? .nan)
                rest = rest[match.range.upperBound...]
            }
            text.append(String(rest))
            return (text, numbers)
        }
        let (x, y) = (split(a), split(b))
        return x.text == y.text && x.numbers.count == y.numbers.count
            && zip(x.numbers, y.numbers).allSatisfy { abs($0 - $1) <= 1e-3 + 1e-6 * abs($0) }
    }

    @Test("every call: the built-in kind's status, content type and body")
    func recordedAnswers() async throws {
        let calls = try Self.calls()
        let recorded = try Self.recorded()
        #expect(recorded.map(\.name) == calls.map(\.name), "the recorded calls are the calls")
        let typed = try await Self.answers(
            kind: StockUnderTest.kind, extraKinds: try TypedFunctionKinds.make([StockUnderTest.self]), calls: calls)
        for ((name, old), new) in zip(recorded, typed) {
            #expect(old.status == new.status, "\(name): \(old.status) vs \(new.status)")
            #expect(old.contentType == new.contentType, "\(name)")
            #expect(
                Self.sameUpToRounding(old.body, new.body),
                "\(name): \(String(decoding: old.body.prefix(300), as: UTF8.self)) vs \(String(decoding: new.body.prefix(300), as: UTF8.self))"
            )
        }
        // Errors carry no numbers from the model: those are byte for byte.
        for ((name, old), new) in zip(recorded, typed) where old.status != 200 {
            #expect(old.body == new.body, "\(name)")
        }
        // The corpus covers forecasts, charts, V2 answers and errors, not only one of them.
        #expect(Set(typed.map(\.status)) == [200, 400, 415])
        #expect(typed.filter { $0.contentType == "image/svg+xml" }.count == 3)
        #expect(typed.filter { $0.status == 200 }.count >= 16)
    }

    @Test("every call: the same status, content type and bytes")
    func sameAnswers() async throws {
        let calls = try Self.calls()
        let builtIn = try await Self.answers(kind: "lstm-regressor", extraKinds: [], calls: calls)
        if ProcessInfo.processInfo.environment["MSCR_RECORD_STOCK_ANSWERS"] == "1" {
            try Self.record(builtIn, calls: calls)
        }
        let typed = try await Self.answers(
            kind: StockUnderTest.kind, extraKinds: try TypedFunctionKinds.make([StockUnderTest.self]), calls: calls)
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
        // The corpus covers forecasts, charts, V2 answers and errors, not only one of them.
        #expect(Set(typed.map(\.status)) == [200, 400, 415])
        #expect(typed.filter { $0.contentType == "image/svg+xml" }.count == 3)
        #expect(typed.filter { $0.status == 200 }.count >= 16)
    }
}

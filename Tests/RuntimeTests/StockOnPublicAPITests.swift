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

/// The stock function on the public API (`functions/stock`) answers what the runtime's own
/// `lstm-regressor` kind (`StockKind`, which it replaced) answered: the same requests over the same
/// repository (an mscr LSTM and the committed ONNX LSTM with its scaler), compared with the old
/// kind's recorded answers by status, content type and body (JSON, SVG charts, errors, V2 metadata
/// and infer). Until the old kind was deleted the two were also served side by side and compared
/// byte for byte (commit "Stock function on the public API beside the built-in kind").
@Suite("stock on the public API equals the built-in kind")
struct StockOnPublicAPITests {
    typealias Call = RouterCall
    typealias Answer = RouterAnswer

    static let keras = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Integration/fixtures/keras-lstm").standardized.path

    /// `stock` on a seeded mscr LSTM (window 5), `keras` on the ONNX export (window 7).
    static func server(root: String, kind: String = Stock.kind, extraKinds: [any HostedKind]) throws -> MSCRServer {
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

    static func answers(kind: String, extraKinds: [any HostedKind], calls: [Call]) async throws -> [Answer] {
        let root = NSTemporaryDirectory() + "mscr-stock-api-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        return try await server(root: root, kind: kind, extraKinds: extraKinds).answers(calls)
    }

    /// The answers the built-in kind gave to ``calls()``, recorded from it while it existed.
    static let recordedPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Integration/fixtures/stock-public-api/answers.json").standardized.path

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
            kind: Stock.kind, extraKinds: try TypedFunctionKinds.make([Stock.self]), calls: calls)
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

    /// The monitor's counts for `function` in `GET /functions`.
    static func monitor(_ client: some TestClientProtocol, _ function: String) async throws -> [String: Any] {
        let list = try await client.execute(uri: "/functions", method: .get)
        let json = try JSONSerialization.jsonObject(with: Data(list.body.readableBytesView))
        let functions = (json as? [String: Any])?["functions"] as? [[String: Any]] ?? []
        let entry = functions.first { $0["name"] as? String == function }
        return (entry?["monitor"] as? [String: Any]) ?? [:]
    }

    @Test("every forecast is recorded with the retraining monitor, and feedback settles it")
    func forecastsReachTheMonitor() async throws {
        let root = NSTemporaryDirectory() + "mscr-stock-monitor-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let server = try Self.server(root: root, extraKinds: try TypedFunctionKinds.make([Stock.self]))
        let rows = V2StockTests.rows(12, seed: 3)
        try await server.makeApplication(router: server.makeRouter()).test(.router) { client in
            for count in [10, 12] {
                let r = try await client.execute(
                    uri: "/functions/stock", method: .post, headers: [.contentType: "text/csv"],
                    body: ByteBuffer(bytes: Self.csv(Array(rows.prefix(count)))))
                #expect(r.status == .ok)
            }
            // V2 predicts windows, not a series' next day: nothing to settle later.
            let v2 = try await client.execute(
                uri: "/v2/models/stock/infer", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(bytes: Self.v2([1, 5, 5], Array(rows.prefix(5)).flatMap { $0 })))
            #expect(v2.status == .ok)
            let before = try await Self.monitor(client, "stock")
            let versions = before["versions"] as? [[String: Any]] ?? []
            #expect(versions.count == 1)
            #expect(versions.first?["version"] as? Int == 1)
            #expect(versions.first?["predictions"] as? Int == 2, "\(before)")
            #expect(versions.first?["feedback"] as? Int == 0)
            let feedback = try await client.execute(
                uri: "/functions/stock/feedback", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"day": 12, "actual": 600.5}"#))
            #expect(feedback.status == .ok, "\(String(buffer: feedback.body))")
            let after = try await Self.monitor(client, "stock")
            #expect((after["versions"] as? [[String: Any]])?.first?["feedback"] as? Int == 1, "\(after)")
            #expect(after["rolling_rmse"] as? Double != nil, "\(after)")
        }
    }
}

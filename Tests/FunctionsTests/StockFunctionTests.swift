import Foundation
import Inference
import Testing

@testable import Functions
@testable import ObjectStore

#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite("Stock function")
struct StockFunctionTests {
    func json(_ forecast: StockForecast) throws -> [String: Any] {
        try #require(
            try JSONSerialization.jsonObject(with: Data(StockJSON.response(forecast).utf8)) as? [String: Any])
    }

    func forecast(_ f: StockForecaster, _ csv: [UInt8], order: StockSeries.Order = .oldestFirst) throws
        -> StockForecast
    {
        try f.forecast(try StockSeries.parse(body: csv, json: false, order: order))
    }

    @Test("JSON answer: a prediction per day after the first window, aligned with actuals, and the forecast")
    func answer() throws {
        let rows = syntheticRows(12)
        let model = try stockModel()
        let f = StockForecaster(regressor: model, modelName: "stock-lstm", version: 3)
        let o = try json(try forecast(f, csv(rows)))
        #expect((o["model"] as? [String: Any])?["name"] as? String == "stock-lstm")
        #expect((o["model"] as? [String: Any])?["version"] as? Int == 3)
        let predictions = try #require(o["predictions"] as? [[String: Any]])
        #expect(predictions.count == 12 - 7)
        let expected = try model.predict(series: rows)
        for (k, p) in predictions.enumerated() {
            #expect(p["day"] as? Int == 7 + k)
            #expect(abs((p["actual"] as? Double ?? 0) - rows[7 + k][4]) < 1e-4)
            #expect(abs((p["predicted"] as? Double ?? 0) - expected[k]) < 1e-4)
        }
        let next = try #require(o["next"] as? [String: Any])
        #expect(next["day"] as? Int == 12)
        #expect(abs((next["predicted"] as? Double ?? 0) - expected[5]) < 1e-4)
        #expect((o["metrics"] as? [String: Any])?["naive_rmse"] != nil)
    }

    @Test("newest-first input gives the same answer as oldest-first")
    func order() throws {
        let rows = syntheticRows(10)
        let f = StockForecaster(regressor: try stockModel(), modelName: "m", version: 1)
        let a = try forecast(f, csv(rows))
        let b = try forecast(f, csv(rows.reversed()), order: .newestFirst)
        #expect(a == b)
    }

    @Test("fewer rows than window + 1 is invalid input")
    func tooFew() throws {
        let f = StockForecaster(regressor: try stockModel(), modelName: "m", version: 1)
        do {
            _ = try forecast(f, csv(syntheticRows(7)))
            Issue.record("answered 7 rows")
        } catch let e as FunctionError {
            #expect(e.code == .invalidInput)
            #expect(e.message.contains("at least 8 rows"))
        }
        #expect(try forecast(f, csv(syntheticRows(8))).predictions.count == 1)
    }

    @Test("SVG chart: both series, the forecast dot, escaped title")
    func svg() throws {
        let f = StockForecaster(regressor: try stockModel(), modelName: "a<b", version: 2)
        let text = StockChart.svg(try forecast(f, csv(syntheticRows(30))))
        #expect(text.hasPrefix("<svg"))
        #expect(text.components(separatedBy: "<polyline").count == 3)
        #expect(text.contains("<circle"))
        #expect(text.contains("a&lt;b v2"))
        // Every plotted coordinate is a finite number.
        for chunk in text.components(separatedBy: "points=\"").dropFirst() {
            let coords = chunk.prefix { $0 != "\"" }.split(whereSeparator: { $0 == " " || $0 == "," })
            #expect(coords.count > 40)
            #expect(coords.allSatisfy { Double($0)?.isFinite == true })
        }
        // Well-formed XML.
        #expect(XMLParser(data: Data(text.utf8)).parse())
    }

    @Test("typed API for V2: windows of raw rows to next closes")
    func typed() throws {
        let model = try stockModel()
        let f = StockForecaster(regressor: model, modelName: "m", version: 1)
        let rows = syntheticRows(9)
        let windows = [Array(rows[0..<7]), Array(rows[2..<9])]
        let p = try f.predict(windows: windows)
        let want = try model.predict(windows: windows)
        #expect(f.windowLength == 7)
        #expect(p.count == 2)
        #expect(p == want)
        #expect(throws: FunctionError.self) { try f.predict(windows: [[[1, 2, 3, 4, 5]]]) }
    }

    @Test("load reads model.json from the repository; a corrupt one is unavailable")
    func kind() throws {
        let store = MemoryObjectStore()
        let repo = ModelRepository(store: store)
        try repo.publish(
            model: "stock-lstm", format: "lstm-regressor", files: ["model.json": try stockModel().encoded()])
        let loaded = try StockForecaster.load(model: try repo.resolve(model: "stock-lstm", version: "latest"))
        #expect(loaded.version == 1 && loaded.modelName == "stock-lstm")
        #expect(loaded.windowLength == 7)
        // A corrupt model file is a load failure (503), not a crash.
        try repo.publish(
            model: "stock-lstm", format: "lstm-regressor", files: ["model.json": Array("{\"magic\":\"x\"}".utf8)])
        do {
            _ = try StockForecaster.load(model: try repo.resolve(model: "stock-lstm", version: "2"))
            Issue.record("loaded a corrupt model")
        } catch let e as FunctionError {
            #expect(e.code == .unavailable)
            #expect(e.message.contains("magic"))
        }
    }

    @Test("feedback bodies: one point, a list, or {actuals}; bad points named")
    func feedback() throws {
        let one = try StockFeedback.parse(Array(#"{"day": 732, "actual": 830.5}"#.utf8))
        #expect(one == [.init(target: .day(732), actual: 830.5)])
        let many = try StockFeedback.parse(
            Array(#"{"actuals": [{"date": "2017-02-03", "close": 801}, {"day": 1, "actual": 2}]}"#.utf8))
        #expect(many == [.init(target: .date("2017-02-03"), actual: 801), .init(target: .day(1), actual: 2)])
        #expect(try StockFeedback.parse(Array(#"[{"day": 3, "actual": 1}]"#.utf8)).count == 1)
        for (body, words) in [
            ("nope", "JSON"), (#"{"day": 1}"#, "point 0"), (#"[{"day": 1, "actual": 1}, {"actual": 5}]"#, "point 1"),
            (#"{"day": -1, "actual": 1}"#, "non-negative"), (#"{"date": "03/02/2017", "actual": 1}"#, "YYYY-MM-DD"),
            (#"{"day": 1, "actual": true}"#, "numbers as numbers"), (#"{"actuals": []}"#, "1 to 10000"),
            (#"{"day": 1.5, "actual": 3}"#, "numbers as numbers"),
        ] {
            do {
                _ = try StockFeedback.parse(Array(body.utf8))
                Issue.record("accepted \(body)")
            } catch let e as FunctionError {
                #expect(e.code == .invalidInput)
                #expect(e.message.contains(words), "\(body): \(e.message)")
            }
        }
    }
}

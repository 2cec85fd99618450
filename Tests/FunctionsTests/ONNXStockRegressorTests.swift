import Foundation
import Inference
import ONNX
import ObjectStore
import Testing

@testable import Functions

/// The stock function on an ONNX regressor: the committed tf2onnx export of the original stack's
/// Keras LSTM (Tests/Integration/fixtures/keras-lstm, made by scripts/keras-lstm-onnx.py) with its
/// scaler.json, held to Keras's own predictions.
@Suite("Stock function with an ONNX regressor and its scaler")
struct ONNXStockRegressorTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Integration/fixtures/keras-lstm").standardized

    static func file(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: fixture.appendingPathComponent(name)))
    }

    /// A repository holding the fixture as version 1 of `keras-lstm` (format onnx).
    static func repository(files: [String: [UInt8]]? = nil) throws -> ModelVersion {
        let repo = ModelRepository(store: MemoryObjectStore())
        let files = try files ?? ["model.onnx": file("model.onnx"), "scaler.json": file("scaler.json")]
        try repo.publish(model: "keras-lstm", format: "onnx", files: files)
        return try repo.resolve(model: "keras-lstm", version: "latest")
    }

    @Test func predictsWithinACentOfKerasOnGOOG() throws {
        let function = try StockForecaster.load(model: try Self.repository())
        #expect(function.windowLength == 7 && function.regressor.columns.count == 5)
        let series = try StockSeries.parse(body: try googCSV(), json: false, order: .newestFirst)
        let forecast = try function.forecast(series)
        let keras = try #require(
            try JSONSerialization.jsonObject(with: Data(Self.file("keras-predictions.json"))) as? [String: Any])
        let expected = try #require(keras["predictions_usd"] as? [Double])
        let got = forecast.predictions.map(\.predicted) + [forecast.next.predicted]
        #expect(got.count == expected.count && got.count == series.rows.count - 6)
        let worst = zip(got, expected).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst < 0.01, "largest difference from Keras: $\(worst)")
    }

    /// Published with its compiled artifact (the graph at the stock function's batch, as `mscr
    /// publish` writes it), the regressor's network is the mapped artifact and it forecasts
    /// exactly as from model.onnx.
    @Test func theCompiledArtifactForecastsExactlyAsModelONNX() throws {
        let onnx = try Self.file("model.onnx")
        let repo = ModelRepository(store: MemoryObjectStore())
        try repo.publish(
            model: "keras-lstm", format: "onnx",
            files: [
                "model.onnx": onnx, "scaler.json": try Self.file("scaler.json"),
                DarknetModelLoader.artifactName: try ONNXArtifact.compile(onnx, batch: ONNXStockRegressor.importBatch),
            ], chunked: [DarknetModelLoader.artifactName])
        let compiled = try repo.resolve(model: "keras-lstm", version: "latest")
        let loaded = try ONNXModelLoader.load(
            model: compiled, policy: ArtifactPolicy(), batch: ONNXStockRegressor.importBatch)
        #expect(loaded.source == .artifact && loaded.fallbackReason == nil)
        #expect(loaded.network.inputs.first?.shape.first == ONNXStockRegressor.importBatch)
        let series = try StockSeries.parse(body: try googCSV(), json: false, order: .newestFirst)
        let fromArtifact = try StockForecaster.load(model: compiled).forecast(series)
        let fromSource = try StockForecaster.load(model: try Self.repository()).forecast(series)
        #expect(fromArtifact.predictions.map(\.predicted) == fromSource.predictions.map(\.predicted))
        #expect(fromArtifact.next.predicted == fromSource.next.predicted)
    }

    /// Windows run 64 per graph call, the last call padded: any count gives the same values as
    /// the series path, window by window.
    @Test func batchedWindowsMatchTheSeries() throws {
        let function = try StockForecaster.load(model: try Self.repository())
        let rows = Array(syntheticRows(140, start: 700))
        let series = try function.regressor.predict(series: rows)
        for count in [1, 63, 64, 65, 134] {
            let windows = (0..<count).map { start in rows[start..<(start + 7)].map { $0 } }
            let batched = try function.regressor.predict(windows: windows)
            #expect(batched == Array(series[0..<count]), "\(count) windows")
        }
    }

    @Test func aVersionWithoutScalerIsUnavailableAndSaysWhy() throws {
        let version = try Self.repository(files: ["model.onnx": try Self.file("model.onnx")])
        let error = try #require(throws: FunctionError.self) {
            try StockForecaster.load(model: version)
        }
        #expect(error.code == .unavailable && error.message.contains("scaler.json"))
    }

    @Test func scalersThatDoNotFitAreRefused() throws {
        let graph = try Self.file("model.onnx")
        let bad: [(String, String)] = [
            (#"{"min": [0, 0, 0], "max": [1, 1, 1]}"#, "5 numbers"),
            (#"{"min": [0, 0, 0, 0, 0], "max": [1, 1, 1, 1, 1], "window": 30}"#, "window 30"),
            (#"{"min": [0, 0, 0, 0, 0], "max": [1, 1, 1, 1, 1], "target": "Price"}"#, "Price"),
            (#"{"min": [0, 0, 0, 0, 9], "max": [1, 1, 1, 1, 1]}"#, "below min"),
            (#"[1, 2]"#, "object"),
            (#"{"min": "#, "not valid JSON"),
        ]
        for (scaler, mention) in bad {
            let error = try #require(throws: InferenceError.self) {
                try ONNXStockRegressor(model: graph, scaler: Array(scaler.utf8))
            }
            #expect(error.message.contains(mention), "\(error.message)")
        }
        // A graph that is not a [batch, window, columns] → one value per window regressor.
        let error = try #require(throws: InferenceError.self) {
            try ONNXStockRegressor(model: [1, 2, 3], scaler: Array(#"{"min": [0], "max": [1]}"#.utf8))
        }
        #expect(error.message.contains("model.onnx"))
    }
}

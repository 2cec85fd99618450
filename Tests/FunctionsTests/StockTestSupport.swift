import Foundation
import Inference

@testable import Functions

/// `<repo>/../shared`, from this file's location.
func sharedDirectory() -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared")
}

/// The bytes of `goog-daily.csv` (newest first, CRLF, `#` comments).
func googCSV() throws -> [UInt8] {
    Array(try Data(contentsOf: sharedDirectory().appendingPathComponent("data/stock/goog-daily.csv")))
}

/// A small stock model with seeded Keras-style weights (not trained: tests check plumbing, not skill).
func stockModel(window: Int = 7, seed: UInt64 = 7) throws -> LSTMRegressor {
    let rows: [[Double]] = [[500, 510, 490, 1_000_000, 505], [900, 910, 890, 9_000_000, 905]]
    let net = try LSTMNetwork.kerasInitialized(inputSize: 5, units: [2], activation: .tanh, seed: seed)
    return try LSTMRegressor(
        network: net, features: .minMax(try MinMaxScaler.fit(rows)), window: window, columns: StockSeries.columns,
        targetColumn: 4)
}

/// `count` synthetic rows, oldest first, as headerless CSV lines.
func syntheticRows(_ count: Int, start: Double = 600) -> [[Double]] {
    (0..<count).map { i in
        let c = start + Double(i) * 1.5 + (i % 3 == 0 ? 2 : -1)
        return [c - 1, c + 3, c - 4, Double(1_000_000 + i * 1000), c]
    }
}

func csv(_ rows: [[Double]]) -> [UInt8] {
    Array(rows.map { $0.map { String($0) }.joined(separator: ",") }.joined(separator: "\n").utf8)
}

/// The error's message when `body` fails to parse.
func parseError(_ body: String, json: Bool = false, order: StockSeries.Order = .oldestFirst) -> FunctionError? {
    do {
        _ = try StockSeries.parse(body: Array(body.utf8), json: json, order: order)
        return nil
    } catch let e as FunctionError {
        return e
    } catch {
        return FunctionError(.internal, "unexpected \(error)")
    }
}

import Inference

/// What the stock function predicts with: a window of `window` raw rows of `columns` (oldest
/// first) → the next close in dollars. The native `LSTMRegressor` (model.json) and an imported
/// ONNX regressor (`ONNXStockRegressor`: model.onnx + scaler.json) both serve it. Throws
/// `InferenceError` or `FunctionError` for input the model cannot take.
package protocol StockRegressor: Sendable {
    /// Rows per window.
    var window: Int { get }
    /// Column names, in input order.
    var columns: [String] { get }
    /// The next target value after each window (`window` rows of `columns.count` values each).
    func predict(windows: [[[Double]]]) throws -> [Double]
    /// Predictions for every window of `rows` (oldest first): `rows.count - window + 1` values,
    /// the last one past the end of the series.
    func predict(series rows: [[Double]]) throws -> [Double]
}

extension LSTMRegressor: StockRegressor {}

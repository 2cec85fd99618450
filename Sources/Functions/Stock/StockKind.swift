import Dispatch
import Inference
import ObjectStore

/// The `lstm-regressor` function kind: loads `model.json` (an `LSTMRegressor` file) from a
/// model version, or, from a version of format `onnx`, `model.onnx` and `scaler.json` (an
/// `ONNXStockRegressor`). `onForecast` (optional) hears about every forecast, for the
/// retraining observer.
package struct StockKind: FunctionKind {
    package var kind: String { "lstm-regressor" }
    private let onForecast: (@Sendable (StockForecastEvent) -> Void)?

    package init(onForecast: (@Sendable (StockForecastEvent) -> Void)? = nil) {
        self.onForecast = onForecast
    }

    package func load(config: FunctionConfig, model: ModelVersion) throws -> any LoadedFunction {
        try loadStock(config: config, model: model)
    }

    /// `load` with its concrete type.
    package func loadStock(config: FunctionConfig, model: ModelVersion) throws -> StockFunction {
        try StockFunction.load(model: model, onForecast: onForecast)
    }
}

extension StockFunction {
    /// Loads `model.json` (an `LSTMRegressor` file) from a model version, or, from a version of
    /// format `onnx`, `model.onnx` and `scaler.json` (an `ONNXStockRegressor`).
    package static func load(
        model: ModelVersion, onForecast: (@Sendable (StockForecastEvent) -> Void)? = nil
    ) throws -> StockFunction {
        let start = DispatchTime.now().uptimeNanoseconds
        if model.manifest.format == "onnx" { return try loadONNX(model: model, start: start, onForecast: onForecast) }
        let (bytes, stats) = try model.read(LSTMRegressor.fileName)
        let t0 = DispatchTime.now().uptimeNanoseconds
        do {
            let regressor = try LSTMRegressor.decode(bytes)
            let t1 = DispatchTime.now().uptimeNanoseconds
            let report = LoadReport(
                version: model.version, fetchMs: stats.fetchSeconds * 1000, parseMs: Double(t1 - t0) / 1e6,
                totalMs: Double(t1 - start) / 1e6, bytes: stats.bytes)
            return StockFunction(
                regressor: regressor, modelName: model.model, version: model.version, loadStats: report,
                onForecast: onForecast)
        } catch let error as InferenceError {
            throw FunctionError(
                .unavailable, "model '\(model.model)' version \(model.version) cannot be loaded: \(error.message)",
                retryAfter: 30, underlying: error)
        }
    }

    /// An ONNX regressor: `model.onnx` imported onto the engine, with `scaler.json`.
    private static func loadONNX(
        model: ModelVersion, start: UInt64, onForecast: (@Sendable (StockForecastEvent) -> Void)?
    ) throws -> StockFunction {
        let (graph, graphStats) = try model.read(ONNXStockRegressor.modelFileName)
        guard model.manifest.files[ONNXStockRegressor.scalerFileName] != nil else {
            throw FunctionError(
                .unavailable,
                "model '\(model.model)' version \(model.version) is an ONNX model without scaler.json; the stock function needs the min-max scaler it was trained with (publish a folder with model.onnx and scaler.json)",
                retryAfter: 30)
        }
        let (scaler, scalerStats) = try model.read(ONNXStockRegressor.scalerFileName)
        let t0 = DispatchTime.now().uptimeNanoseconds
        do {
            let regressor = try ONNXStockRegressor(model: graph, scaler: scaler)
            let t1 = DispatchTime.now().uptimeNanoseconds
            let report = LoadReport(
                version: model.version, fetchMs: (graphStats.fetchSeconds + scalerStats.fetchSeconds) * 1000,
                parseMs: Double(t1 - t0) / 1e6, totalMs: Double(t1 - start) / 1e6,
                bytes: graphStats.bytes + scalerStats.bytes)
            return StockFunction(
                regressor: regressor, modelName: model.model, version: model.version, loadStats: report,
                onForecast: onForecast)
        } catch let error as InferenceError {
            throw FunctionError(
                .unavailable, "model '\(model.model)' version \(model.version) cannot be loaded: \(error.message)",
                retryAfter: 30, underlying: error)
        }
    }
}

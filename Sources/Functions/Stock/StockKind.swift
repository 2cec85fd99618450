import Dispatch
import Inference
import ObjectStore

/// The `lstm-regressor` function kind: loads `model.json` (an `LSTMRegressor` file) from a
/// model version. `onForecast` (optional) hears about every forecast, for the retraining observer.
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
        let start = DispatchTime.now().uptimeNanoseconds
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
}

import Inference
import ONNX
import ObjectStore

extension StockForecaster {
    /// Loads `model.json` (an `LSTMRegressor` file) from a model version, or, from a version of
    /// format `onnx`, `model.onnx` and `scaler.json` (an `ONNXStockRegressor`). A file that does
    /// not parse is `unavailable` (503, retry after 30 s), naming the model and version.
    package static func load(model: ModelVersion) throws -> StockForecaster {
        if model.manifest.format == "onnx" { return try loadONNX(model: model) }
        let (bytes, _) = try model.read(LSTMRegressor.fileName)
        do {
            return StockForecaster(
                regressor: try LSTMRegressor.decode(bytes), modelName: model.model, version: model.version)
        } catch let error as InferenceError {
            throw unloadable(model, error)
        }
    }

    /// An ONNX regressor: its compiled artifact mapped, or `model.onnx` imported onto the engine
    /// (`ONNXModelLoader`), with `scaler.json`.
    private static func loadONNX(model: ModelVersion) throws -> StockForecaster {
        guard model.manifest.files[ONNXStockRegressor.scalerFileName] != nil else {
            throw FunctionError(
                .unavailable,
                "model '\(model.model)' version \(model.version) is an ONNX model without scaler.json; the stock function needs the min-max scaler it was trained with (publish a folder with model.onnx and scaler.json)",
                retryAfter: 30)
        }
        let (scaler, _) = try model.read(ONNXStockRegressor.scalerFileName)
        do {
            let network = try ONNXModelLoader.load(model: model, batch: ONNXStockRegressor.importBatch).network
            return StockForecaster(
                regressor: try ONNXStockRegressor(network: network, scaler: scaler), modelName: model.model,
                version: model.version)
        } catch let error as InferenceError {
            throw unloadable(model, error)
        } catch let error as ONNXError {
            throw unloadable(model, InferenceError(.invalidModel, "model.onnx: \(error.message)"))
        }
    }

    private static func unloadable(_ model: ModelVersion, _ error: InferenceError) -> FunctionError {
        FunctionError(
            .unavailable, "model '\(model.model)' version \(model.version) cannot be loaded: \(error.message)",
            retryAfter: 30, underlying: error)
    }
}

package import Functions
internal import Inference

/// A next-close regressor over daily prices, loaded by the version's manifest `format`:
/// - `lstm-regressor`: mscr's LSTM file (`model.json`, as `mscr train` and retraining write it:
///   the network, its min-max scaler, the window length and the columns);
/// - `onnx`: an LSTM exported to ONNX (`model.onnx`, input `[batch, window, columns]`, output
///   `[batch, 1]`) with the min-max scaler it was trained with (`scaler.json`).
///
/// Either way it takes `window` raw rows of ``PriceSeries/columns`` (oldest first) and predicts
/// the next close in dollars.
public final class RegressorModel: FunctionModel {
    /// `["lstm-regressor", "onnx"]`.
    public static var formats: [String] { ["lstm-regressor", "onnx"] }

    /// The loaded regressor, with the forecast over a series.
    package let function: StockForecaster

    /// Loads the regressor from `files`, by their format.
    public init(files: ModelFiles, parameters: FunctionParameters) throws {
        do {
            function = try StockForecaster.load(model: files.model)
        } catch let error as FunctionError {
            throw FunctionFailure(error)
        }
    }

    /// A model already loaded (`mscr predict` reads a local `model.json`).
    package init(_ function: StockForecaster) {
        self.function = function
    }

    /// Rows per window: a forecast needs at least `window + 1` rows.
    public var window: Int { function.windowLength }
    /// The model's input columns, in order.
    public var columns: [String] { function.regressor.columns }

    /// Predicts every day of `series` that has ``window`` days before it, and the day after the
    /// series, with the error of those predictions against the actual closes.
    ///
    /// Throws ``FunctionFailure`` (`.invalidInput`) when the series has fewer than `window + 1`
    /// rows or values the model cannot take.
    public func forecast(_ series: PriceSeries) throws -> PriceForecast {
        do {
            return PriceForecast(try function.forecast(series.series))
        } catch let error as FunctionError {
            throw FunctionFailure(error)
        }
    }

    /// The next close after each window: every window is ``window`` rows of
    /// ``columns``.count raw values, oldest first. Throws ``FunctionFailure`` (`.invalidInput`)
    /// for windows the model cannot take.
    public func predict(windows: [[[Double]]]) throws -> [Double] {
        do {
            return try function.predict(windows: windows)
        } catch let error as FunctionError {
            throw FunctionFailure(error)
        }
    }
}

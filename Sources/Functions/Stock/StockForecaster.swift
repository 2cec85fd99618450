import FoundationEssentials
import Inference

/// One answer of the stock function: a prediction per day that has `window` days before it,
/// each aligned with the day's actual close, and the forecast for the day after the series.
package struct StockForecast: Sendable, Equatable {
    package struct Day: Sendable, Equatable {
        /// Row index (oldest row = 0) of the day whose close is predicted.
        package var day: Int
        package var date: String?
        package var predicted: Double
        /// The day's actual close (nil for the forecast past the end).
        package var actual: Double?
    }

    package var model: String
    package var version: Int
    package var window: Int
    /// Days `window ..< rows`, with actuals.
    package var predictions: [Day]
    /// Day `rows`, the next trading day.
    package var next: Day
    /// Date of the last row (the forecast is for the trading day after it), when known.
    package var lastDate: String?
    /// RMSE of `predictions` against their actuals, and of "tomorrow = today" on the same days.
    package var rmse: Double?
    package var naiveRMSE: Double?
}

/// What the stock function tells the retraining observer about each forecast it makes (its
/// `FunctionContext.record`, with the model's name and version).
package struct StockForecastEvent: Sendable, Equatable {
    package var model: String
    package var version: Int
    /// Row index of the forecast day in the request's series.
    package var day: Int
    /// Date of the series' last row, when the input had dates.
    package var lastDate: String?
    package var predicted: Double

    package init(model: String, version: Int, day: Int, lastDate: String?, predicted: Double) {
        self.model = model
        self.version = version
        self.day = day
        self.lastDate = lastDate
        self.predicted = predicted
    }
}

/// A loaded `lstm-regressor` model (the native LSTM, model.json, or an ONNX regressor with its
/// scaler) and the forecast over a series: what the public `RegressorModel` serves the stock
/// function (`functions/stock`) and `mscr predict` with. Immutable and shared.
package final class StockForecaster: Sendable {
    package let regressor: any StockRegressor
    package let modelName: String
    package let version: Int

    package init(regressor: any StockRegressor, modelName: String, version: Int) {
        self.regressor = regressor
        self.modelName = modelName
        self.version = version
    }

    /// Rows per window: a request needs at least `windowLength + 1` rows.
    package var windowLength: Int { regressor.window }

    /// Each window's next close, in dollars (windows of `windowLength` raw rows of
    /// `Open, High, Low, Volume, Close`, oldest first).
    package func predict(windows: [[[Double]]]) throws -> [Double] {
        do {
            return try regressor.predict(windows: windows)
        } catch let error as InferenceError {
            throw FunctionError(.invalidInput, error.message, underlying: error)
        }
    }

    /// Predictions for every day of `series` that has a full window before it, plus the forecast.
    package func forecast(_ series: StockSeries) throws -> StockForecast {
        let w = regressor.window
        let n = series.rows.count
        guard n >= w + 1 else {
            throw FunctionError(
                .invalidInput, "need at least \(w + 1) rows (window \(w) + 1), got \(n)")
        }
        let values: [Double]
        do {
            values = try regressor.predict(series: series.rows)
        } catch let error as InferenceError {
            throw FunctionError(.invalidInput, error.message, underlying: error)
        }
        let close = StockSeries.close
        var days: [StockForecast.Day] = []
        days.reserveCapacity(n - w)
        var se = 0.0
        var naive = 0.0
        for d in w..<n {
            let actual = series.rows[d][close]
            let p = values[d - w]
            days.append(.init(day: d, date: series.dates?[d], predicted: p, actual: actual))
            se += (p - actual) * (p - actual)
            naive += (series.rows[d - 1][close] - actual) * (series.rows[d - 1][close] - actual)
        }
        let count = Double(n - w)
        return StockForecast(
            model: modelName, version: version, window: w, predictions: days,
            next: .init(day: n, date: nil, predicted: values[n - w], actual: nil), lastDate: series.dates?.last,
            rmse: (se / count).squareRoot(), naiveRMSE: (naive / count).squareRoot())
    }
}

package import Functions

/// A ``RegressorModel``'s answer for a ``PriceSeries``: a predicted close for every day that has a
/// full window of days before it (with that day's actual close), and the forecast for the trading
/// day after the series.
///
/// As a function's `Output`, the runtime renders it as the stock JSON
/// (`{"model": {"name", "version"}, "window", "rows", "predictions": [{"day", "date"?,
/// "predicted", "actual"}], "next": {"day", "after"?, "predicted"}, "metrics": {"rmse",
/// "naive_rmse"}}`, prices to 4 decimals), or with `?format=svg` as a chart of predicted against
/// actual closes.
public struct PriceForecast: Sendable, Equatable {
    /// One predicted day.
    public struct Day: Sendable, Equatable {
        /// The row index (oldest row = 0) of the day whose close is predicted.
        public var day: Int
        /// The day's date, when the series had dates (nil for the forecast past the end).
        public var date: String?
        /// The predicted close.
        public var predicted: Double
        /// The day's actual close (nil for the forecast past the end).
        public var actual: Double?
    }

    /// The runtime's forecast (what it renders).
    package let forecast: StockForecast

    package init(_ forecast: StockForecast) {
        self.forecast = forecast
    }

    /// The model's name in the repository.
    public var modelName: String { forecast.model }
    /// The model version that answered.
    public var modelVersion: Int { forecast.version }
    /// Rows per window (the model's).
    public var window: Int { forecast.window }
    /// The days `window ..< rows`, each with its actual close.
    public var predictions: [Day] { forecast.predictions.map(Day.init) }
    /// The forecast for the day after the series (its `day` is the series' row count).
    public var next: Day { Day(forecast.next) }
    /// The date of the series' last row (the forecast is for the trading day after it), when known.
    public var lastDate: String? { forecast.lastDate }
    /// The root mean square error of ``predictions`` against their actual closes.
    public var rmse: Double? { forecast.rmse }
    /// The same error for the naive forecast "tomorrow's close is today's", on the same days.
    public var naiveRMSE: Double? { forecast.naiveRMSE }
}

extension PriceForecast.Day {
    init(_ day: StockForecast.Day) {
        self.init(day: day.day, date: day.date, predicted: day.predicted, actual: day.actual)
    }
}

extension PriceForecast: Encodable {
    private enum Keys: String, CodingKey {
        case model, name, version, window, rows, predictions, next, after, metrics, rmse
        case naiveRMSE = "naive_rmse"
    }

    private enum NextKeys: String, CodingKey {
        case day, after, predicted
    }

    /// The stock JSON's fields (the runtime writes the HTTP answer itself, with its number format).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        var model = container.nestedContainer(keyedBy: Keys.self, forKey: .model)
        try model.encode(modelName, forKey: .name)
        try model.encode(modelVersion, forKey: .version)
        try container.encode(window, forKey: .window)
        try container.encode(next.day, forKey: .rows)
        try container.encode(predictions, forKey: .predictions)
        var next = container.nestedContainer(keyedBy: NextKeys.self, forKey: .next)
        try next.encode(self.next.day, forKey: .day)
        try next.encodeIfPresent(lastDate, forKey: .after)
        try next.encode(self.next.predicted, forKey: .predicted)
        if let rmse, let naiveRMSE {
            var metrics = container.nestedContainer(keyedBy: Keys.self, forKey: .metrics)
            try metrics.encode(rmse, forKey: .rmse)
            try metrics.encode(naiveRMSE, forKey: .naiveRMSE)
        }
    }
}

extension PriceForecast.Day: Encodable {}

import MSCRFunctions

/// The stock function (`"kind": "lstm-regressor"` in `function.json`): the next day's close from
/// the last days' Open, High, Low, Volume and Close, with a ``RegressorModel`` (mscr's LSTM file
/// or an ONNX LSTM with its scaler, by the published version's format).
///
/// `POST /functions/stock` takes a ``PriceSeries`` (CSV or JSON rows, `?order=` for headerless
/// rows) and answers a ``PriceForecast``: the stock JSON, or with `?format=svg` a chart. Every
/// forecast is recorded with the runtime (``FunctionContext/record(_:)``), which measures the
/// model's live error against feedback and retrains it. Over V2 it takes `window` (FP32
/// `[batch, window, 5]`: raw rows, oldest first) and answers `close` (FP32 `[batch, 1]`, each
/// window's next close in dollars).
public struct Stock: TensorHandler {
    /// The daily prices, as the body's CSV or JSON rows.
    public typealias Input = PriceSeries
    /// The forecast: the stock JSON, or with `?format=svg` a chart.
    public typealias Output = PriceForecast
    /// mscr's LSTM or an ONNX LSTM with its scaler.
    public typealias Model = RegressorModel

    /// `"lstm-regressor"`.
    public static let kind = "lstm-regressor"

    /// Takes every `params` (the stock function has none).
    public init(parameters: FunctionParameters) throws {}
}

extension Stock {
    /// Forecasts every day of the series that has a full window before it and the day after it,
    /// and records that last forecast with the runtime (the retraining monitor settles it against
    /// feedback).
    public func handle(_ series: PriceSeries, model: RegressorModel, context: FunctionContext) throws
        -> PriceForecast
    {
        let forecast = try model.forecast(series)
        context.record(
            ForecastRecord(day: forecast.next.day, lastDate: forecast.lastDate, predicted: forecast.next.predicted))
        return forecast
    }
}

import Functions
import MSCRFunctions

/// The codecs of price series: a ``PriceSeries`` input is the body as CSV or JSON rows, an
/// ``PriceForecast`` output the stock JSON or an SVG chart.
extension TypedCodec {
    /// The request's body as a series when `T` is ``PriceSeries`` (nil for other types): a
    /// headerless or headed CSV, JSON rows, or either as a multipart `file` part; `?order=` says
    /// which end of headerless rows is the oldest. Errors name the line or row.
    static func series<T>(_ type: T.Type, from request: FunctionRequest) throws -> T? {
        guard T.self == PriceSeries.self else { return nil }
        guard let series = PriceSeries(try StockSeries.parse(request)) as? T else {
            throw FunctionError(.internal, "a price series is not a \(T.self)")
        }
        return series
    }

    /// `?format=` of a function answering forecasts: `json` (the default) or `svg`; else a 400.
    package static func chartFormat(_ query: [String: String]) throws -> String {
        let format = query["format"]?.lowercased() ?? "json"
        guard format == "json" || format == "svg" else {
            throw FunctionError(.invalidInput, "format must be 'json' or 'svg', not '\(format)'")
        }
        return format
    }

    /// The stock JSON of `forecast` (prices to 4 decimals), or with `?format=svg` its chart.
    static func response(_ forecast: PriceForecast, query: [String: String]) throws -> FunctionResponse {
        if try chartFormat(query) == "svg" {
            return FunctionResponse(body: Array(StockChart.svg(forecast.forecast).utf8), contentType: "image/svg+xml")
        }
        return FunctionResponse(
            body: Array(StockJSON.response(forecast.forecast).utf8), contentType: "application/json")
    }
}

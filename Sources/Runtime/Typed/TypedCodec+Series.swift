import Common
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
        guard let series = PriceSeries(try stockSeries(from: request)) as? T else {
            throw FunctionError(.internal, "a price series is not a \(T.self)")
        }
        return series
    }

    /// The series of a request body (see `StockSeries+Parsing.swift` for the formats): JSON when
    /// the media type ends in `json`, the `file` part of a multipart form, and `?order=` for
    /// headerless rows; an image, audio or video body is 415.
    package static func stockSeries(from request: FunctionRequest) throws -> StockSeries {
        let order = try StockSeries.Order(request.query["order"])
        var body = request.body
        let type = request.contentType?.split(separator: ";").first.map {
            $0.trimmed.lowercased()
        }
        if let type, type.hasPrefix("multipart/form-data") {
            guard let boundary = MultipartBody.boundary(of: request.contentType ?? ""),
                let part = MultipartBody.part(named: "file", in: body, boundary: boundary)
            else {
                throw FunctionError(.invalidInput, "a multipart body needs a part named 'file' holding the CSV or JSON")
            }
            body = part
        } else if let type, type.hasPrefix("image/") || type.hasPrefix("audio/") || type.hasPrefix("video/") {
            throw FunctionError(
                .unsupportedMediaType, "the stock function takes CSV or JSON, not \(type)")
        }
        return try StockSeries.parse(body: body, json: type?.hasSuffix("json") == true, order: order)
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

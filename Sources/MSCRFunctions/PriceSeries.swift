package import Functions

/// Daily prices, oldest row first: each row is `Open, High, Low, Volume, Close`.
///
/// As a function's whole `Input`, it receives the request body, decoded by the runtime: a
/// headerless CSV of those five columns (`#` comment lines allowed; oldest row first unless the
/// query says `?order=newest-first`), a CSV with a header naming its columns (a Yahoo Finance
/// export: rows sorted by its `Date` column), or JSON `{"rows": [[…]], "dates": [...]?}`, as the
/// body or a multipart `file` part. A body that is not a series is a 400 naming the line or row;
/// an image, audio or video body is a 415.
public struct PriceSeries: Sendable, Equatable {
    /// The column order of a row: `["Open", "High", "Low", "Volume", "Close"]`.
    public static var columns: [String] { StockSeries.columns }

    /// The runtime's series.
    package let series: StockSeries

    package init(_ series: StockSeries) {
        self.series = series
    }

    /// A series from its rows (`Open, High, Low, Volume, Close`, oldest first) and, optionally,
    /// each row's date (`YYYY-MM-DD`).
    public init(rows: [[Double]], dates: [String]? = nil) {
        series = StockSeries(rows: rows, dates: dates)
    }

    /// The rows, oldest first.
    public var rows: [[Double]] { series.rows }
    /// Each row's date, when the input had dates.
    public var dates: [String]? { series.dates }
}

extension PriceSeries: Decodable {
    private enum Keys: String, CodingKey {
        case rows, dates
    }

    /// Decodes `{"rows": [[Open, High, Low, Volume, Close], …], "dates": [...]?}` (the runtime
    /// decodes request bodies itself; this is for a series inside a larger JSON value).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        self.init(
            rows: try container.decode([[Double]].self, forKey: .rows),
            dates: try container.decodeIfPresent([String].self, forKey: .dates))
    }
}

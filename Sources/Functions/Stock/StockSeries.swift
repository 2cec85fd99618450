import FoundationEssentials

/// Daily rows of `Open, High, Low, Volume, Close`, oldest first (parsed from CSV or JSON by
/// `StockSeries+Parsing.swift`; the runtime reads requests into it).
package struct StockSeries: Sendable, Equatable {
    /// The column order of `rows` (the original project's order).
    package static let columns = ["Open", "High", "Low", "Volume", "Close"]
    /// Index of Close in a row.
    package static let close = 4

    /// [day][5], oldest first.
    package var rows: [[Double]]
    /// The date of each row when the input had one (Yahoo Finance CSV, JSON `dates`).
    package var dates: [String]?

    package init(rows: [[Double]], dates: [String]? = nil) {
        self.rows = rows
        self.dates = dates
    }

    /// Which end of a headerless file is the oldest row (`?order=`).
    package enum Order: Sendable {
        case oldestFirst
        case newestFirst

        /// `oldest-first` (default, also when nil or empty; also `asc`) or `newest-first` (also
        /// `desc`).
        package init(_ name: String?) throws {
            switch name?.lowercased() {
            case nil, "", "oldest-first", "asc", "ascending": self = .oldestFirst
            case "newest-first", "desc", "descending": self = .newestFirst
            case let other?:
                throw FunctionError(.invalidInput, "order must be 'oldest-first' or 'newest-first', not '\(other)'")
            }
        }
    }
}

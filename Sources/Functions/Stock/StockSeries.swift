import Common
import FoundationEssentials

/// Daily rows of `Open, High, Low, Volume, Close`, oldest first, as parsed from a request.
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

        /// `oldest-first` (default; also `asc`) or `newest-first` (also `desc`).
        package init(query: String?) throws {
            switch query?.lowercased() {
            case nil, "", "oldest-first", "asc", "ascending": self = .oldestFirst
            case "newest-first", "desc", "descending": self = .newestFirst
            case let other?:
                throw FunctionError(.invalidInput, "order must be 'oldest-first' or 'newest-first', not '\(other)'")
            }
        }
    }

    /// Parses a request body (see `StockSeries+Parsing.swift` for the formats).
    package static func parse(_ request: FunctionRequest) throws -> StockSeries {
        let order = try Order(query: request.query["order"])
        var body = request.body
        let type = request.contentType?.split(separator: ";").first.map {
            $0.trimmed.lowercased()
        }
        if let type, type.hasPrefix("multipart/form-data") {
            guard let boundary = DetectMultipartBody.boundary(of: request.contentType ?? ""),
                let part = DetectMultipartBody.part(named: "file", in: body, boundary: boundary)
            else {
                throw FunctionError(.invalidInput, "a multipart body needs a part named 'file' holding the CSV or JSON")
            }
            body = part
        } else if let type, type.hasPrefix("image/") || type.hasPrefix("audio/") || type.hasPrefix("video/") {
            throw FunctionError(
                .unsupportedMediaType, "the stock function takes CSV or JSON, not \(type)")
        }
        return try parse(body: body, json: type?.hasSuffix("json") == true, order: order)
    }
}

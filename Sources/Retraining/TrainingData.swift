import FoundationEssentials
import Functions
import ObjectStore

/// Training data for `mscr train` / `mscr retrain`: any input the stock function accepts
/// (headerless CSV, a CSV with a header such as Yahoo Finance's, JSON rows), read from a
/// local path or an object-store URI.
package enum TrainingData {
    /// Reads `location`: a local path, `file:///path`, or an object URI of any scheme the
    /// object store supports (`s3://bucket/prefix/goog.csv` opens `s3://bucket/prefix` and
    /// reads key `goog.csv`). Rows come back oldest first. `order` says which end of a
    /// headerless file is oldest: it is required for one (the original `goog-daily.csv` is
    /// newest first), and ignored when the rows carry dates.
    package static func load(_ location: String, order: StockSeries.Order?) throws -> StockSeries {
        let bytes = try read(location)
        let json = location.lowercased().hasSuffix(".json")
        do {
            let series = try StockSeries.parse(body: bytes, json: json, order: order ?? .oldestFirst)
            if series.dates == nil, order == nil {
                throw RetrainingError(
                    .invalidData,
                    "\(location) has no dates: say which row is oldest (--order oldest-first or --order newest-first)")
            }
            return series
        } catch let error as FunctionError {
            throw RetrainingError(.invalidData, "\(location): \(error.message)", underlying: error)
        }
    }

    /// The bytes at `location`.
    package static func read(_ location: String) throws -> [UInt8] {
        let isURI = location.contains("://")
        if !isURI || location.hasPrefix("file://") {
            let path = isURI ? String(location.dropFirst("file://".count)) : location
            guard let data = FileManager.default.contents(atPath: path) else {
                throw RetrainingError(.invalidData, "cannot read \(location)")
            }
            return Array(data)
        }
        guard let slash = location.lastIndex(of: "/"), location[..<slash].contains("://"),
            location.index(after: slash) < location.endIndex
        else {
            throw RetrainingError(
                .invalidData, "\(location) does not name an object (expected scheme://bucket/.../file)")
        }
        let parent = String(location[..<slash])
        let key = String(location[location.index(after: slash)...])
        do {
            return try ObjectStores.open(parent).read(key)
        } catch {
            throw RetrainingError(.invalidData, "cannot read \(location): \(error)", underlying: error)
        }
    }
}

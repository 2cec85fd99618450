import Common
import FoundationEssentials

/// The spread of one measured quantity: percentiles by linear interpolation between closest
/// ranks (numpy's default), so the median of an even count is the mean of the middle two.
struct Distribution: Sendable {
    let sorted: [Double]

    init(_ values: [Double]) {
        sorted = values.filter { $0.isFinite }.sorted()
    }

    var count: Int { sorted.count }
    var min: Double? { sorted.first }
    var max: Double? { sorted.last }
    var median: Double? { percentile(50) }
    var mean: Double? { sorted.isEmpty ? nil : sorted.reduce(0, +) / Double(sorted.count) }

    /// The `p`-th percentile, 0 ... 100.
    func percentile(_ p: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let rank = Swift.min(Swift.max(p, 0), 100) / 100 * Double(sorted.count - 1)
        let lower = Int(rank.rounded(.down))
        let upper = Swift.min(lower + 1, sorted.count - 1)
        let fraction = rank - Double(lower)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
    }

    /// `{"n", "min", "median", "p95", "max"}` (milliseconds or whatever the values are).
    var coldstartJSON: JSONValue {
        guard let min, let max, let median, let p95 = percentile(95) else { return ["n": 0] }
        return [
            "n": count.json, "min": min.rounded(toPlaces: 3).json, "median": median.rounded(toPlaces: 3).json,
            "p95": p95.rounded(toPlaces: 3).json, "max": max.rounded(toPlaces: 3).json,
        ]
    }

    /// `{"n", "min", "mean", "p50", "p90", "p99", "max"}`.
    var loadJSON: JSONValue {
        guard let min, let max, let mean, let p50 = percentile(50), let p90 = percentile(90), let p99 = percentile(99)
        else { return ["n": 0] }
        return [
            "n": count.json, "min": min.rounded(toPlaces: 3).json, "mean": mean.rounded(toPlaces: 3).json,
            "p50": p50.rounded(toPlaces: 3).json, "p90": p90.rounded(toPlaces: 3).json,
            "p99": p99.rounded(toPlaces: 3).json, "max": max.rounded(toPlaces: 3).json,
        ]
    }
}

/// Number formatting shared by the client commands.
enum Format {

    /// `0.42 ms`, `12.3 ms`, `1234 ms`.
    static func ms(_ v: Double) -> String {
        v.fixed(v >= 1000 ? 0 : v >= 10 ? 1 : 2) + " ms"
    }

    /// A table cell: three significant-ish digits, no unit.
    static func cell(_ v: Double?) -> String {
        guard let v else { return "–" }
        if v >= 1000 { return v.fixed(0) }
        if v >= 10 { return v.fixed(1) }
        return v.fixed(2)
    }

    /// Left-aligned first column, right-aligned others, two spaces apart.
    static func table(_ rows: [[String]]) -> String {
        guard let width = rows.map(\.count).max() else { return "" }
        var widths = [Int](repeating: 0, count: width)
        for row in rows {
            for (i, cell) in row.enumerated() { widths[i] = Swift.max(widths[i], cell.count) }
        }
        return rows.map { row in
            row.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return i == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// One line of JSON with sorted keys.
    static func json(_ object: JSONValue) -> String {
        object.text()
    }

    /// Pretty JSON with sorted keys.
    static func prettyJSON(_ object: JSONValue) -> String {
        object.text(pretty: true)
    }
}

/// Writes a line to standard error.
func printError(_ line: String) {
    StandardStream.writeError(line + "\n")
}

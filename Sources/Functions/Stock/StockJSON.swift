import Common

/// The stock function's JSON, written by hand so key order and number format are stable
/// (prices to 4 decimals, in dollars):
///
/// ```json
/// { "model": {"name": "stock-lstm", "version": 3}, "window": 7, "rows": 732,
///   "predictions": [{"day": 7, "date": "2014-04-07"?, "predicted": 541.2, "actual": 538.15}, …],
///   "next": {"day": 732, "after": "2017-02-02"?, "predicted": 829.9},
///   "metrics": {"rmse": 8.1, "naive_rmse": 8.0} }
/// ```
package enum StockJSON {
    package static func response(_ f: StockForecast) -> String {
        // Appended piece by piece into one reserved string: an interpolated piece longer than
        // 15 bytes is a string of its own (an allocation per prediction, two with `actual`).
        var out = ""
        out.reserveCapacity(160 + 64 * f.predictions.count)
        out += "{\"model\":{\"name\":"
        out += string(f.model)
        out += ",\"version\":"
        out += String(f.version)
        out += "},\"window\":"
        out += String(f.window)
        out += ",\"rows\":"
        out += String(f.next.day)
        out += ",\"predictions\":["
        /// `"name":"value",` when there is a value (a string member more members follow).
        func optional(_ name: String, _ value: String?) {
            guard let value else { return }
            out += name
            out += string(value)
            out += ","
        }
        for (i, d) in f.predictions.enumerated() {
            out += i > 0 ? ",{\"day\":" : "{\"day\":"
            out += String(d.day)
            out += ","
            optional("\"date\":", d.date)
            out += "\"predicted\":"
            out += number(d.predicted, 4)
            if let a = d.actual {
                out += ",\"actual\":"
                out += number(a, 4)
            }
            out += "}"
        }
        out += "],\"next\":{\"day\":"
        out += String(f.next.day)
        out += ","
        optional("\"after\":", f.lastDate)
        out += "\"predicted\":"
        out += number(f.next.predicted, 4)
        out += "}"
        if let rmse = f.rmse, let naive = f.naiveRMSE {
            out += ",\"metrics\":{\"rmse\":"
            out += number(rmse, 4)
            out += ",\"naive_rmse\":"
            out += number(naive, 4)
            out += "}"
        }
        out += "}"
        return out
    }

    /// A JSON string literal.
    package static func string(_ s: String) -> String { JSONText.string(s) }

    /// A finite number rounded to `decimals` places (non-finite becomes `null`: JSON has no NaN).
    package static func number(_ v: Double, _ decimals: Int) -> String {
        JSONText.number(v, decimals, nonFinite: "null")
    }
}

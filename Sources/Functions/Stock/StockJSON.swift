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
        var out = "{\"model\":{\"name\":\(string(f.model)),\"version\":\(f.version)},"
        out += "\"window\":\(f.window),\"rows\":\(f.next.day),\"predictions\":["
        for (i, d) in f.predictions.enumerated() {
            if i > 0 { out += "," }
            out += "{\"day\":\(d.day),"
            if let date = d.date { out += "\"date\":\(string(date))," }
            out += "\"predicted\":\(number(d.predicted, 4))"
            if let a = d.actual { out += ",\"actual\":\(number(a, 4))" }
            out += "}"
        }
        out += "],\"next\":{\"day\":\(f.next.day),"
        if let after = f.lastDate { out += "\"after\":\(string(after))," }
        out += "\"predicted\":\(number(f.next.predicted, 4))}"
        if let rmse = f.rmse, let naive = f.naiveRMSE {
            out += ",\"metrics\":{\"rmse\":\(number(rmse, 4)),\"naive_rmse\":\(number(naive, 4))}"
        }
        return out + "}"
    }

    /// A JSON string literal.
    package static func string(_ s: String) -> String { JSONText.string(s) }

    /// A finite number rounded to `decimals` places (non-finite becomes `null`: JSON has no NaN).
    package static func number(_ v: Double, _ decimals: Int) -> String {
        JSONText.number(v, decimals, nonFinite: "null")
    }
}

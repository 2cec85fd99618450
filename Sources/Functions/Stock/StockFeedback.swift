import FoundationEssentials

/// `POST /functions/stock/feedback`: the actual closes of days the service forecast.
///
/// Body: one point, an array of points, or `{"actuals": [points]}`; a point is
/// `{"day": 732, "actual": 830.1}` (the forecast's `next.day`) or
/// `{"date": "2017-02-03", "actual": 830.1}` (the close of that date: it settles the forecast
/// made from the latest series that ended before it). `close` is accepted for `actual`.
package enum StockFeedback {
    /// Which forecast a point settles.
    package enum Target: Sendable, Hashable {
        case day(Int)
        case date(String)
    }

    package struct Point: Sendable, Equatable {
        package var target: Target
        package var actual: Double

        package init(target: Target, actual: Double) {
            self.target = target
            self.actual = actual
        }
    }

    /// One point as sent.
    private struct Wire: Decodable {
        var day: Int?
        var date: String?
        var actual: Double?
        var close: Double?
    }

    private struct Wrapped: Decodable {
        var actuals: [Wire]
    }

    /// Parses the body; every problem is `invalidInput` naming the point.
    package static func parse(_ body: [UInt8]) throws -> [Point] {
        let data = Data(body)
        let decoder = JSONDecoder()
        let items: [Wire]
        if let w = try? decoder.decode(Wrapped.self, from: data) {
            items = w.actuals
        } else if let list = try? decoder.decode([Wire].self, from: data) {
            items = list
        } else if let one = try? decoder.decode(Wire.self, from: data) {
            items = [one]
        } else {
            throw FunctionError(
                .invalidInput,
                "feedback must be JSON {\"actuals\": [{\"day\": N or \"date\": \"YYYY-MM-DD\", \"actual\": close}, …]} "
                    + "with numbers as numbers")
        }
        guard !items.isEmpty, items.count <= 10_000 else {
            throw FunctionError(.invalidInput, "feedback needs 1 to 10000 points, got \(items.count)")
        }
        return try items.enumerated().map { i, p in
            guard let actual = p.actual ?? p.close, actual.isFinite, actual > 0 else {
                throw FunctionError(.invalidInput, "feedback point \(i) needs a positive finite \"actual\"")
            }
            if let day = p.day {
                guard day >= 0 else {
                    throw FunctionError(.invalidInput, "feedback point \(i): \"day\" must be a non-negative integer")
                }
                return Point(target: .day(day), actual: actual)
            }
            if let date = p.date {
                let u = Array(date.utf8)
                guard u.count >= 10, u[4] == 0x2D, u[7] == 0x2D else {
                    throw FunctionError(
                        .invalidInput, "feedback point \(i): date '\(date.prefix(40))' is not YYYY-MM-DD")
                }
                return Point(target: .date(String(date.prefix(10))), actual: actual)
            }
            throw FunctionError(.invalidInput, "feedback point \(i) needs \"day\" or \"date\"")
        }
    }
}

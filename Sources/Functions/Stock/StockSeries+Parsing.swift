import FoundationEssentials

/// The input formats of the stock function (DESIGN.md):
///
/// - the original headerless CSV, five columns `Open,High,Low,Volume,Close`, `#` comment
///   lines and blank lines skipped, **oldest row first** unless `?order=newest-first` (the
///   original data file, `goog-daily.csv`, is newest first: send it with `?order=newest-first`);
/// - a CSV with a header naming its columns, such as Yahoo Finance's
///   `Date,Open,High,Low,Close,Adj Close,Volume`: columns are found by name (`Adj Close` and
///   unknown columns are ignored) and, when there is a `Date` column (`YYYY-MM-DD…`), rows are
///   sorted by date and `?order=` does not apply;
/// - JSON `{"rows": [[Open, High, Low, Volume, Close], …], "dates": ["2017-01-03", …]?}`,
///   ordered like a headerless CSV unless it has `dates`.
///
/// Every error is `invalidInput` and names the line (CSV) or the row (JSON).
extension StockSeries {
    package static func parse(body: [UInt8], json: Bool, order: Order) throws -> StockSeries {
        var bytes = body[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        guard let first = bytes.first(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }) else {
            throw FunctionError(
                .invalidInput, "the body is empty: send CSV rows Open,High,Low,Volume,Close or JSON {\"rows\": […]}")
        }
        if json || first == UInt8(ascii: "{") {
            return try parseJSON(Array(bytes), order: order)
        }
        return try parseCSV(bytes, order: order)
    }

    private static func parseJSON(_ bytes: [UInt8], order: Order) throws -> StockSeries {
        struct Body: Decodable {
            var rows: [[Double]]
            var dates: [String]?
        }
        let body: Body
        do {
            body = try JSONDecoder().decode(Body.self, from: Data(bytes))
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw FunctionError(.invalidInput, "JSON \(path(context.codingPath)) is not a number")
        } catch let DecodingError.keyNotFound(key, _) {
            throw FunctionError(
                .invalidInput,
                "JSON body needs \"\(key.stringValue)\": {\"rows\": [[Open, High, Low, Volume, Close], …]}")
        } catch let DecodingError.dataCorrupted(context) {
            throw FunctionError(
                .invalidInput, "JSON body is malformed at \(path(context.codingPath)): \(context.debugDescription)")
        } catch {
            throw FunctionError(.invalidInput, "JSON body is malformed: \(error)")
        }
        for (i, row) in body.rows.enumerated() {
            guard row.count == 5 else {
                throw FunctionError(
                    .invalidInput,
                    "JSON rows[\(i)] has \(row.count) values, expected 5 (Open, High, Low, Volume, Close)")
            }
            try check(row, at: "JSON rows[\(i)]")
        }
        if let dates = body.dates {
            guard dates.count == body.rows.count else {
                throw FunctionError(.invalidInput, "JSON has \(dates.count) dates for \(body.rows.count) rows")
            }
            for (i, d) in dates.enumerated() { try checkDate(d, at: "JSON dates[\(i)]") }
            return try sortedByDate(rows: body.rows, dates: dates, places: dates.indices.map { "JSON rows[\($0)]" })
        }
        return StockSeries(rows: order == .newestFirst ? body.rows.reversed() : body.rows)
    }

    private static func parseCSV(_ bytes: ArraySlice<UInt8>, order: Order) throws -> StockSeries {
        /// Column indices of Open, High, Low, Volume, Close and (optionally) Date in a line.
        var layout: (columns: [Int], date: Int?, width: Int)? = nil
        var rows: [[Double]] = []
        var dates: [String] = []
        var lines: [Int] = []
        var lineNumber = 0
        var fields: [Substring] = []
        for rawLine in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            lineNumber += 1
            var lineBytes = rawLine
            if lineBytes.last == 0x0D { lineBytes = lineBytes.dropLast() }
            guard try splitFields(lineBytes, into: &fields, line: lineNumber) else { continue }
            if layout == nil, rows.isEmpty, Double(fields[0]) == nil,
                fields.contains(where: { $0.lowercased() == "close" })
            {
                layout = try header(fields, line: lineNumber)
                continue
            }
            let width = layout?.width ?? 5
            guard fields.count == width else {
                throw FunctionError(
                    .invalidInput,
                    "line \(lineNumber) has \(fields.count) columns, expected \(width)"
                        + (layout == nil ? " (Open,High,Low,Volume,Close)" : " (as in the header)"))
            }
            let columns = layout?.columns ?? [0, 1, 2, 3, 4]
            var row: [Double] = []
            row.reserveCapacity(5)
            for (k, c) in columns.enumerated() {
                guard let v = Double(fields[c]) else {
                    throw FunctionError(
                        .invalidInput,
                        "line \(lineNumber), column \(Self.columns[k]): '\(fields[c].prefix(40))' is not a number")
                }
                row.append(v)
            }
            try check(row, at: "line \(lineNumber)")
            if let d = layout?.date {
                try checkDate(String(fields[d]), at: "line \(lineNumber)")
                dates.append(String(fields[d]))
            }
            rows.append(row)
            lines.append(lineNumber)
        }
        if layout?.date != nil {
            return try sortedByDate(rows: rows, dates: dates, places: lines.map { "line \($0)" })
        }
        return StockSeries(rows: order == .newestFirst ? rows.reversed() : rows)
    }

    /// The fields of a CSV line (without its line break) into `fields`, each without surrounding
    /// spaces, tabs and double quotes; false for a blank or `#` comment line. An ASCII line (every
    /// line of a price file) is split on its bytes, each field a small string that needs no
    /// allocation; any other line by `Character`s, as it always was: the fields are the same.
    private static func splitFields(_ line: ArraySlice<UInt8>, into fields: inout [Substring], line number: Int)
        throws -> Bool
    {
        fields.removeAll(keepingCapacity: true)
        guard line.allSatisfy({ $0 < 0x80 }) else {
            guard let text = String(validating: line, as: UTF8.self) else {
                throw FunctionError(.invalidInput, "line \(number) is not valid UTF-8")
            }
            let trimmed = trim(text[...], quotes: false)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { return false }
            fields = trimmed.split(separator: ",", omittingEmptySubsequences: false).map { trim($0, quotes: true) }
            return true
        }
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }
        var start = line.startIndex
        var end = line.endIndex
        while start < end, isSpace(line[start]) { start += 1 }
        while end > start, isSpace(line[end - 1]) { end -= 1 }
        if start == end || line[start] == UInt8(ascii: "#") { return false }
        var fieldStart = start
        while true {
            let comma = line[fieldStart..<end].firstIndex(of: UInt8(ascii: ",")) ?? end
            var lo = fieldStart
            var hi = comma
            while lo < hi, isSpace(line[lo]) || line[lo] == UInt8(ascii: "\"") { lo += 1 }
            while hi > lo, isSpace(line[hi - 1]) || line[hi - 1] == UInt8(ascii: "\"") { hi -= 1 }
            fields.append(Substring(String(decoding: line[lo..<hi], as: UTF8.self)))
            if comma == end { return true }
            fieldStart = comma + 1
        }
    }

    /// `s` without surrounding spaces and tabs (and double quotes when `quotes`).
    private static func trim(_ s: Substring, quotes: Bool) -> Substring {
        func strip(_ c: Character) -> Bool { c == " " || c == "\t" || (quotes && c == "\"") }
        var t = s
        while let c = t.first, strip(c) { t = t.dropFirst() }
        while let c = t.last, strip(c) { t = t.dropLast() }
        return t
    }

    /// Finds the needed columns by name in a header line.
    private static func header(_ fields: [Substring], line: Int) throws -> (columns: [Int], date: Int?, width: Int) {
        let names = fields.map { $0.lowercased() }
        var columns: [Int] = []
        for name in Self.columns {
            guard let i = names.firstIndex(of: name.lowercased()) else {
                throw FunctionError(
                    .invalidInput,
                    "line \(line): the header has no '\(name)' column (need Open, High, Low, Close, Volume)")
            }
            columns.append(i)
        }
        return (columns, names.firstIndex(of: "date"), fields.count)
    }

    /// Finite numbers, positive prices, non-negative volume. (`place` is built only for an error.)
    private static func check(_ row: [Double], at place: @autoclosure () -> String) throws {
        for (k, v) in row.enumerated() {
            guard v.isFinite else {
                throw FunctionError(.invalidInput, "\(place()), column \(columns[k]): NaN and infinity are not allowed")
            }
            guard k == 3 ? v >= 0 : v > 0 else {
                throw FunctionError(
                    .invalidInput,
                    "\(place()), column \(columns[k]): \(v) must be \(k == 3 ? "zero or more" : "positive")")
            }
        }
    }

    private static func checkDate(_ d: String, at place: @autoclosure () -> String) throws {
        let u = Array(d.utf8)
        let digit = { (i: Int) in u[i] >= 0x30 && u[i] <= 0x39 }
        guard u.count >= 10, (0..<4).allSatisfy(digit), u[4] == 0x2D, digit(5), digit(6), u[7] == 0x2D, digit(8),
            digit(9)
        else {
            throw FunctionError(.invalidInput, "\(place()): date '\(d.prefix(40))' is not YYYY-MM-DD")
        }
    }

    private static func sortedByDate(rows: [[Double]], dates: [String], places: [String]) throws -> StockSeries {
        let order = dates.indices.sorted { dates[$0] < dates[$1] }
        for k in order.indices.dropFirst() where dates[order[k]] == dates[order[k - 1]] {
            throw FunctionError(
                .invalidInput, "\(places[order[k]]): date \(dates[order[k]]) repeats \(places[order[k - 1]])")
        }
        return StockSeries(rows: order.map { rows[$0] }, dates: order.map { dates[$0] })
    }

    private static func path(_ codingPath: [any CodingKey]) -> String {
        var s = ""
        for key in codingPath {
            if let i = key.intValue { s += "[\(i)]" } else { s += (s.isEmpty ? "" : ".") + key.stringValue }
        }
        return s.isEmpty ? "body" : s
    }
}

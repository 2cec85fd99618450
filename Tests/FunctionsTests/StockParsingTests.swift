import Foundation
import Inference
import Testing

@testable import Functions

@Suite("Stock input parsing")
struct StockParsingTests {
    @Test("the original data file: comments, CRLF, newest first with ?order=newest-first")
    func originalFile() throws {
        let bytes = try googCSV()
        let newest = try StockSeries.parse(body: bytes, json: false, order: .newestFirst)
        #expect(newest.rows.count == 732)
        #expect(newest.dates == nil)
        // Oldest first after reversing: the file's last data line comes first.
        #expect(newest.rows.first == [568.00257, 568.00257, 552.922516, 13100, 558.462551])
        #expect(newest.rows.last == [828.659973, 833.450012, 828.349976, 1_247_700, 831.659973])
        // Default is oldest first (DESIGN.md): the same file read as is.
        let asIs = try StockSeries.parse(body: bytes, json: false, order: .oldestFirst)
        #expect(asIs.rows == Array(newest.rows.reversed()))
        #expect(try StockSeries.Order("desc") == .newestFirst)
        #expect(throws: FunctionError.self) { try StockSeries.Order("sideways") }
    }

    @Test("Yahoo Finance CSV: columns by name, sorted by date, Adj Close ignored")
    func yahoo() throws {
        let text = """
            Date,Open,High,Low,Close,Adj Close,Volume
            2017-01-04,788.36,791.34,783.16,786.9,786.9,1073000
            2017-01-03,778.81,789.63,775.8,786.14,786.14,1657300
            2017-01-05,786.08,794.48,785.02,794.02,794.02,1335200
            """
        let s = try StockSeries.parse(body: Array(text.utf8), json: false, order: .newestFirst)
        #expect(s.dates == ["2017-01-03", "2017-01-04", "2017-01-05"])
        #expect(s.rows[0] == [778.81, 789.63, 775.8, 1_657_300, 786.14])
        #expect(s.rows[2][4] == 794.02)
        let dup = "Date,Open,High,Low,Close,Adj Close,Volume\n2017-01-03,1,2,1,2,2,5\n2017-01-03,1,2,1,2,2,5\n"
        #expect(parseError(dup)?.message.contains("line 3") == true)
        #expect(parseError("Date,Open,High,Low,Close\n2017-01-03,1,2,1,2\n")?.message.contains("Volume") == true)
        #expect(
            parseError("Date,Open,High,Low,Close,Adj Close,Volume\n2017-01-03,null,2,1,2,2,5\n")?.message
                .contains("line 2, column Open") == true)
        #expect(
            parseError("Date,Open,High,Low,Close,Adj Close,Volume\nyesterday,1,2,1,2,2,5\n")?.message
                .contains("YYYY-MM-DD") == true)
    }

    @Test("JSON rows, with and without dates")
    func json() throws {
        let body = #"{"rows": [[1, 2, 0.5, 100, 1.5], [2, 3, 1, 200, 2.5]]}"#
        let s = try StockSeries.parse(body: Array(body.utf8), json: true, order: .oldestFirst)
        #expect(s.rows == [[1, 2, 0.5, 100, 1.5], [2, 3, 1, 200, 2.5]])
        let r = try StockSeries.parse(body: Array(body.utf8), json: false, order: .newestFirst)
        #expect(r.rows.first?[4] == 2.5)
        let dated = #"{"rows": [[2, 3, 1, 200, 2.5], [1, 2, 0.5, 100, 1.5]], "dates": ["2020-01-02", "2020-01-01"]}"#
        let d = try StockSeries.parse(body: Array(dated.utf8), json: false, order: .oldestFirst)
        #expect(d.dates == ["2020-01-01", "2020-01-02"])
        #expect(d.rows.first?[4] == 1.5)
        #expect(parseError(#"{"rows": [[1, 2, 3, 4]]}"#)?.message.contains("rows[0] has 4 values") == true)
        #expect(parseError(#"{"rows": [[1, 2, 3, 4, 5], [1, "x", 3, 4, 5]]}"#)?.message.contains("rows[1][1]") == true)
        #expect(parseError(#"{"rows": [[1, 2, 3, 4, 5], [1, true, 3, 4, 5]]}"#)?.message.contains("rows[1][1]") == true)
        #expect(parseError(#"{"rows": [[1, 2, 3, 4, 5e999]]}"#) != nil)
        #expect(parseError(#"{"values": []}"#)?.message.contains("rows") == true)
        #expect(parseError(#"{"rows": [[1, 2, 3, 4, 5]], "dates": []}"#)?.message.contains("dates") == true)
    }

    @Test(
        "bad CSV lines are invalid input naming the line",
        arguments: [
            ("1,2,3,4,5\n1,2,3,4\n", "line 2 has 4 columns"),
            ("# c\n1,2,3,4,5\n1,2,x,4,5\n", "line 3, column Low"),
            ("1,2,3,4,5\n1,2,nan,4,5\n", "line 2, column Low: NaN"),
            ("1,2,3,4,5\n1,2,3,4,inf\n", "line 2, column Close: NaN and infinity"),
            ("1,2,3,4,5\n1,2,3,4,-5\n", "line 2, column Close"),
            ("1,2,3,4,5\r\n\r\n1,2,3,4,5,6\r\n", "line 3 has 6 columns"),
            ("   \n\n", "empty"),
        ])
    func badLines(body: String, words: String) {
        let error = parseError(body)
        #expect(error?.code == .invalidInput)
        #expect(error?.message.contains(words) == true, "\(error?.message ?? "no error")")
    }

    @Test("non-UTF-8 bytes name their line; a BOM is skipped")
    func bytesAndTypes() throws {
        var body = Array("1,2,3,4,5\n".utf8)
        body += [0x31, 0xFF, 0x2C, 0x0A]
        do {
            _ = try StockSeries.parse(body: body, json: false, order: .oldestFirst)
            Issue.record("parsed invalid UTF-8")
        } catch let e as FunctionError {
            #expect(e.code == .invalidInput)
            #expect(e.message.contains("line 2 is not valid UTF-8"))
        }
        // A header without dates keeps the order switch; a UTF-8 BOM is skipped.
        let headed = Array("\u{FEFF}Open,High,Low,Volume,Close\n1,2,0.5,9,1.5\n2,3,1,9,2.5\n".utf8)
        let h = try StockSeries.parse(body: headed, json: false, order: .newestFirst)
        #expect(h.rows.first?[4] == 2.5)
    }
}

/// The CSV parser splits ASCII lines on their bytes; this checks it against the way every line
/// was split before (by `Character`s: the line trimmed of spaces and tabs, split on commas, each
/// field trimmed of spaces, tabs and quotes), parsing the same bodies both ways: random lines
/// of numbers, spaces, tabs, quotes, commas, comments, blank lines and line endings, and some
/// non-ASCII ones.
@Suite("Stock CSV lines against the Character-based reference")
struct StockCSVReferenceTests {
    enum Outcome: Equatable {
        case rows([[Double]])
        case failed(String)
    }

    /// The reference: the parser's old splitting, then the same row rules.
    static func reference(_ body: [UInt8], order: StockSeries.Order) -> Outcome {
        func trim(_ s: Substring, quotes: Bool) -> Substring {
            func strip(_ c: Character) -> Bool { c == " " || c == "\t" || (quotes && c == "\"") }
            var t = s
            while let c = t.first, strip(c) { t = t.dropFirst() }
            while let c = t.last, strip(c) { t = t.dropLast() }
            return t
        }
        var rows: [[Double]] = []
        var number = 0
        for raw in body.split(separator: 0x0A, omittingEmptySubsequences: false) {
            number += 1
            var bytes = raw
            if bytes.last == 0x0D { bytes = bytes.dropLast() }
            guard let text = String(validating: bytes, as: UTF8.self) else { return .failed("line \(number) UTF-8") }
            let line = trim(text[...], quotes: false)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { trim($0, quotes: true) }
            guard fields.count == 5 else { return .failed("line \(number) has \(fields.count) columns") }
            var row: [Double] = []
            for (k, f) in fields.enumerated() {
                guard let v = Double(f) else { return .failed("line \(number), column \(k)") }
                row.append(v)
            }
            for (k, v) in row.enumerated() where !v.isFinite || !(k == 3 ? v >= 0 : v > 0) {
                return .failed("line \(number), column \(k)")
            }
            rows.append(row)
        }
        return .rows(order == .newestFirst ? rows.reversed() : rows)
    }

    /// What the parser made of `body`, in the reference's terms (errors by line and column).
    static func parsed(_ body: [UInt8], order: StockSeries.Order) -> Outcome {
        do {
            return .rows(try StockSeries.parse(body: body, json: false, order: order).rows)
        } catch let error as FunctionError {
            let m = error.message
            let line = m.split(separator: ",").first.map(String.init) ?? m
            if m.contains("UTF-8") {
                return .failed("\(line.split(separator: " ").prefix(2).joined(separator: " ")) UTF-8")
            }
            if let range = m.range(of: " columns, expected") {
                return .failed(String(m[..<range.lowerBound]) + " columns")
            }
            let names = ["Open", "High", "Low", "Volume", "Close"]
            for (k, name) in names.enumerated() where m.contains("column \(name)") {
                return .failed("\(line), column \(k)")
            }
            return .failed(m)
        } catch {
            return .failed("\(error)")
        }
    }

    @Test("random bodies parse to the same rows, or fail on the same line and column")
    func randomBodies() {
        var rng = SeededGenerator(seed: 11)
        let pieces = [
            "792.36", "1", "0.5", "969100", "1e3", "-4", "0", "nan", "inf", "0x1p3", "+2.5", ".5", "5.",
            "12345678901234567.25", "abc", "", " ", "\t", "\"", "\"7\"", " 3 ", "\"\t1.25\t\"", "1,5", "é", "٣",
            "\u{301}",
        ]
        var agreed = 0
        for _ in 0..<3000 {
            var body = ""
            for _ in 0..<Int(rng.next() % 6) {
                switch rng.next() % 10 {
                case 0: body += "# a comment, with 1,2,3"
                case 1: body += ["", "  ", "\t"][Int(rng.next() % 3)]
                default:
                    let columns = rng.next() % 8 == 0 ? Int(rng.next() % 7) : 5
                    body += (0..<columns).map { _ in
                        let p = pieces[Int(rng.next() % UInt64(rng.next() % 4 == 0 ? pieces.count : 7))]
                        return [" ", "", "\t", "\""][Int(rng.next() % 4)] + p + ["", " ", "\""][Int(rng.next() % 3)]
                    }.joined(separator: ",")
                }
                body += ["\n", "\r\n", "\n", "\r"][Int(rng.next() % 4)]
            }
            let bytes = Array(body.utf8)
            guard !bytes.allSatisfy({ [0x20, 0x09, 0x0A, 0x0D].contains($0) }) else { continue }
            for order in [StockSeries.Order.oldestFirst, .newestFirst] {
                let expected = Self.reference(bytes, order: order)
                let got = Self.parsed(bytes, order: order)
                #expect(got == expected, "\(body.debugDescription)")
                if got == expected { agreed += 1 }
            }
        }
        #expect(agreed > 4000)
    }
}

/// The stock response is appended piece by piece; this checks it byte for byte against the
/// interpolated form it replaced, on random forecasts (dates or not, actuals or not, metrics or
/// not, non-finite numbers, names that need escaping).
@Suite("Stock JSON against the interpolated reference")
struct StockJSONReferenceTests {
    static func reference(_ f: StockForecast) -> String {
        func string(_ s: String) -> String { StockJSON.string(s) }
        func number(_ v: Double, _ d: Int) -> String { StockJSON.number(v, d) }
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

    @Test("random forecasts write the same bytes")
    func randomForecasts() {
        var rng = SeededGenerator(seed: 5)
        func value() -> Double {
            switch rng.next() % 12 {
            case 0: return .nan
            case 1: return -.infinity
            case 2: return Double(rng.next() % 2000)
            case 3: return 1e17 * Double(rng.next() % 100)
            default: return Double(Int64(bitPattern: rng.next() % 2_000_000_000)) / Double(1 + rng.next() % 10_000)
            }
        }
        func date() -> String? { rng.next() % 2 == 0 ? nil : "2017-01-\(10 + rng.next() % 20)" }
        for _ in 0..<500 {
            let dated = rng.next() % 2 == 0
            let count = Int(rng.next() % 40)
            let days = (0..<count).map { i in
                StockForecast.Day(
                    day: 7 + i, date: dated ? date() : nil, predicted: value(),
                    actual: rng.next() % 5 == 0 ? nil : value())
            }
            let metrics = rng.next() % 3 != 0
            let forecast = StockForecast(
                model: ["stock-lstm", "q\"uote\\d\n", "é-model", ""][Int(rng.next() % 4)],
                version: Int(rng.next() % 1000), window: 7, predictions: days,
                next: StockForecast.Day(day: 7 + count, date: nil, predicted: value(), actual: nil),
                lastDate: dated ? date() : nil, rmse: metrics ? value() : nil, naiveRMSE: metrics ? value() : nil)
            #expect(StockJSON.response(forecast) == Self.reference(forecast))
        }
    }
}

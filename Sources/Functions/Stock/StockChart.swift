/// `?format=svg`: a self-contained SVG line chart of actual vs predicted closes, with the
/// next-day forecast as a dot (the original service returned a matplotlib PNG).
package enum StockChart {
    package static func svg(_ f: StockForecast, width: Double = 860, height: Double = 380) -> String {
        let (left, right, top, bottom) = (64.0, 16.0, 36.0, 40.0)
        let plotW = width - left - right
        let plotH = height - top - bottom
        let actual = f.predictions.compactMap { d in d.actual.map { (d.day, $0) } }
        let predicted = f.predictions.map { ($0.day, $0.predicted) } + [(f.next.day, f.next.predicted)]
        let values = (actual + predicted).map(\.1).filter(\.isFinite)
        var lo = values.min() ?? 0
        var hi = values.max() ?? 1
        if hi - lo < 1e-9 { (lo, hi) = (lo - 1, hi + 1) }
        let pad = (hi - lo) * 0.05
        (lo, hi) = (lo - pad, hi + pad)
        let firstDay = Double(f.predictions.first?.day ?? 0)
        let lastDay = Double(f.next.day)
        let span = max(1, lastDay - firstDay)
        func x(_ day: Int) -> Double { left + (Double(day) - firstDay) / span * plotW }
        func y(_ v: Double) -> Double { top + (hi - v) / (hi - lo) * plotH }
        func fmt(_ v: Double) -> String { StockJSON.number(v, 1) }
        func points(_ series: [(Int, Double)]) -> String {
            series.filter { $0.1.isFinite }.map { "\(fmt(x($0.0))),\(fmt(y($0.1)))" }.joined(separator: " ")
        }

        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(fmt(width))\" height=\"\(fmt(height))\" "
        s += "viewBox=\"0 0 \(fmt(width)) \(fmt(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n"
        let title = "\(f.model) v\(f.version): predicted vs actual close"
        s += "<text x=\"\(fmt(left))\" y=\"20\" font-size=\"14\" font-weight=\"bold\">\(escape(title))</text>\n"
        // Horizontal grid with price labels.
        for k in 0...4 {
            let v = lo + (hi - lo) * Double(k) / 4
            let yy = fmt(y(v))
            s += "<line x1=\"\(fmt(left))\" y1=\"\(yy)\" x2=\"\(fmt(width - right))\" y2=\"\(yy)\" stroke=\"#e5e5e5\"/>"
            s +=
                "<text x=\"\(fmt(left - 6))\" y=\"\(yy)\" text-anchor=\"end\" dominant-baseline=\"middle\">\(StockJSON.number(v, 2))</text>\n"
        }
        // Day labels: first, last, and the forecast day (dates when known).
        let labelled = [(f.predictions.first, "start"), (f.predictions.last, "end")].compactMap { d, a in
            d.map { ($0, a) }
        }
        for (d, anchor) in labelled {
            s +=
                "<text x=\"\(fmt(x(d.day)))\" y=\"\(fmt(height - bottom + 16))\" text-anchor=\"\(anchor)\">\(escape(d.date ?? "day \(d.day)"))</text>\n"
        }
        s += "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" points=\"\(points(actual))\"/>\n"
        s += "<polyline fill=\"none\" stroke=\"#ff7f0e\" stroke-width=\"1.5\" points=\"\(points(predicted))\"/>\n"
        if f.next.predicted.isFinite {
            s += "<circle cx=\"\(fmt(x(f.next.day)))\" cy=\"\(fmt(y(f.next.predicted)))\" r=\"4\" fill=\"#d62728\">"
            s += "<title>next: \(StockJSON.number(f.next.predicted, 2))</title></circle>\n"
        }
        // Legend.
        let lx = width - right - 250
        s +=
            "<line x1=\"\(fmt(lx))\" y1=\"16\" x2=\"\(fmt(lx + 20))\" y2=\"16\" stroke=\"#1f77b4\" stroke-width=\"2\"/>"
        s += "<text x=\"\(fmt(lx + 26))\" y=\"20\">actual</text>"
        s +=
            "<line x1=\"\(fmt(lx + 80))\" y1=\"16\" x2=\"\(fmt(lx + 100))\" y2=\"16\" stroke=\"#ff7f0e\" stroke-width=\"2\"/>"
        s += "<text x=\"\(fmt(lx + 106))\" y=\"20\">predicted</text>"
        s +=
            "<circle cx=\"\(fmt(lx + 180))\" cy=\"16\" r=\"4\" fill=\"#d62728\"/><text x=\"\(fmt(lx + 188))\" y=\"20\">next</text>\n"
        s += "</svg>\n"
        return s
    }

    /// Escapes text for SVG content.
    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}

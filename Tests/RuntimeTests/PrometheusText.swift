import Foundation

/// A strict reader of the Prometheus text format (v0.0.4) for tests: every line is a comment
/// (`# HELP`/`# TYPE`) or `name{labels} value`; anything else fails.
enum PrometheusText {
    struct ParseError: Error, CustomStringConvertible {
        let line: String
        var description: String { "not Prometheus text: \(line)" }
    }

    static func parse(_ text: String) throws -> [String: Double] {
        var samples: [String: Double] = [:]
        let namePattern = try NSRegularExpression(
            pattern: #"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})?$"#)
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") { continue }
            guard let space = line.lastIndex(of: " ") else { throw ParseError(line: String(line)) }
            let key = String(line[..<space])
            let valueText = String(line[line.index(after: space)...])
            let value: Double?
            switch valueText {
            case "+Inf": value = .infinity
            case "-Inf": value = -.infinity
            case "NaN": value = .nan
            default: value = Double(valueText)
            }
            guard let value,
                namePattern.firstMatch(in: key, range: NSRange(key.startIndex..., in: key)) != nil
            else { throw ParseError(line: String(line)) }
            samples[key] = value
        }
        return samples
    }
}

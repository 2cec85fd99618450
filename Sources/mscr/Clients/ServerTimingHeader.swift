/// A parsed `Server-Timing` header (`cold;dur=12.5, fetch;dur=3, parse;dur=9.1, queue;dur=0,
/// infer;dur=20.2, total;dur=33`), metrics in the order the server sent them. Entries without a
/// `dur` keep a nil duration; quoted `desc` values are skipped.
struct ServerTimingHeader: Sendable, Equatable {
    struct Metric: Sendable, Equatable {
        var name: String
        var ms: Double?
    }

    var metrics: [Metric]

    init(_ header: String?) {
        metrics = []
        guard let header else { return }
        for entry in Self.splitOutsideQuotes(header, on: ",") {
            let params = Self.splitOutsideQuotes(entry, on: ";").map { $0.trimmingSpaces }
            guard let name = params.first, !name.isEmpty else { continue }
            var ms: Double?
            for param in params.dropFirst() {
                guard let eq = param.firstIndex(of: "=") else { continue }
                if param[..<eq].trimmingSpaces.lowercased() == "dur" {
                    ms = Double(param[param.index(after: eq)...].trimmingSpaces)
                }
            }
            metrics.append(Metric(name: name, ms: ms))
        }
    }

    /// The duration of `name` in milliseconds.
    subscript(_ name: String) -> Double? {
        metrics.first { $0.name == name }?.ms
    }

    /// The server waited for a model load (it sent `cold`).
    var isCold: Bool { metrics.contains { $0.name == "cold" } }

    var isEmpty: Bool { metrics.isEmpty }

    /// `cold 12.5 ms, fetch 3.0 ms, …` for people.
    var summary: String {
        metrics.map { m in m.ms.map { "\(m.name) \(Format.ms($0))" } ?? m.name }.joined(separator: ", ")
    }

    private static func splitOutsideQuotes(_ text: String, on separator: Character) -> [String] {
        var parts: [String] = []
        var current = ""
        var quoted = false
        for c in text {
            if c == "\"" { quoted.toggle() }
            if c == separator && !quoted {
                parts.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        parts.append(current)
        return parts
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces, tabs and line breaks.
    var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0.isNewline }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}

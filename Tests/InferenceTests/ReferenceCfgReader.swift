@testable import Inference

/// The cfg reader as it was before it worked on UTF-8 bytes (commit f9d6192), on `Character`s,
/// kept verbatim as the reference `CfgReader` is checked against (`CfgReaderDifferentialTests`).
///
/// Splits Darknet cfg text into sections, the way Darknet's `read_cfg` does: whitespace is
/// removed, lines starting with `#` or `;` are comments (we also cut a trailing `# comment`),
/// `[name]` opens a section, everything else must be `key=value`.
enum ReferenceCfgReader {
    static func sections(from text: String) throws -> [CfgSection] {
        var sections: [CfgSection] = []
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = String(rawLine.filter { !$0.isWhitespace })
            if let cut = line.firstIndex(where: { $0 == "#" || $0 == ";" }) { line = String(line[..<cut]) }
            if line.isEmpty { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]"), line.count > 2 else {
                    throw InferenceError(.invalidConfig, "cfg line \(lineNumber): malformed section header '\(line)'")
                }
                sections.append(CfgSection(type: String(line.dropFirst().dropLast()).lowercased(), line: lineNumber))
                continue
            }
            guard let eq = line.firstIndex(of: "="), eq != line.startIndex else {
                throw InferenceError(.invalidConfig, "cfg line \(lineNumber): expected key=value, got '\(line)'")
            }
            guard !sections.isEmpty else {
                throw InferenceError(
                    .invalidConfig, "cfg line \(lineNumber): option '\(line)' before the first [section]")
            }
            sections[sections.count - 1].append(
                key: String(line[..<eq]), value: String(line[line.index(after: eq)...]), line: lineNumber)
        }
        return sections
    }
}

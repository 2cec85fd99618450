/// Splits Darknet cfg text into sections, the way Darknet's `read_cfg` does: whitespace is
/// removed, lines starting with `#` or `;` are comments (we also cut a trailing `# comment`),
/// `[name]` opens a section, everything else must be `key=value`.
///
/// One pass over the UTF-8 bytes. The accepted language is that of the earlier parser, which
/// worked on `Character`s: a `\r\n` pair is one `Character`, so it is not a line break (it is
/// whitespace inside the line), and a line holding any non-ASCII byte goes through the
/// `Character` rules (``characterLine(_:number:into:)``), where a combining mark can join an
/// ASCII `=`, `#` or `]` into a different `Character`. ASCII lines, i.e. every real cfg, never
/// build a `Character`.
package enum CfgReader {
    package static func sections(from text: String) throws -> [CfgSection] {
        var text = text
        return try text.withUTF8 { try sections(utf8: $0) }
    }

    /// Bytes Darknet treats as whitespace: exactly the ASCII scalars whose `Character` is
    /// whitespace (tab, LF, VT, FF, CR, space).
    @inline(__always)
    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) }

    private static func sections(utf8 bytes: UnsafeBufferPointer<UInt8>) throws -> [CfgSection] {
        var sections: [CfgSection] = []
        // The current line without whitespace and comment; no line is longer than the text.
        let line = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(bytes.count, 1))
        defer { line.deallocate() }
        var lineNumber = 0
        var start = 0
        let count = bytes.count
        while true {
            // The line ends at a `\n` that does not follow a `\r` (`\r\n` is one Character).
            var end = start
            var ascii = true
            while end < count {
                let byte = bytes[end]
                if byte == 0x0A, end == start || bytes[end - 1] != 0x0D { break }
                if byte >= 0x80 { ascii = false }
                end += 1
            }
            lineNumber += 1
            if ascii {
                // Whitespace removed, cut at the first `#` or `;`.
                var length = 0
                for i in start..<end {
                    let byte = bytes[i]
                    if isSpace(byte) { continue }
                    if byte == UInt8(ascii: "#") || byte == UInt8(ascii: ";") { break }
                    line[length] = byte
                    length += 1
                }
                try asciiLine(UnsafeBufferPointer(rebasing: line[..<length]), number: lineNumber, into: &sections)
            } else {
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
                try characterLine(text, number: lineNumber, into: &sections)
            }
            if end >= count { break }
            start = end + 1
        }
        return sections
    }

    /// One ASCII line, whitespace and comment already removed.
    private static func asciiLine(
        _ line: UnsafeBufferPointer<UInt8>, number: Int, into sections: inout [CfgSection]
    ) throws {
        guard let first = line.first else { return }
        if first == UInt8(ascii: "[") {
            guard line.last == UInt8(ascii: "]"), line.count > 2 else {
                throw InferenceError(
                    .invalidConfig,
                    "cfg line \(number): malformed section header '\(String(decoding: line, as: UTF8.self))'")
            }
            let type = String(unsafeUninitializedCapacity: line.count - 2) { out in
                for i in 1..<line.count - 1 {
                    let byte = line[i]
                    out[i - 1] = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
                }
                return line.count - 2
            }
            sections.append(CfgSection(type: type, line: number))
            return
        }
        guard let eq = line.firstIndex(of: UInt8(ascii: "=")), eq != 0 else {
            throw InferenceError(
                .invalidConfig, "cfg line \(number): expected key=value, got '\(String(decoding: line, as: UTF8.self))'"
            )
        }
        guard !sections.isEmpty else {
            throw InferenceError(
                .invalidConfig,
                "cfg line \(number): option '\(String(decoding: line, as: UTF8.self))' before the first [section]")
        }
        sections[sections.count - 1].append(
            key: String(decoding: UnsafeBufferPointer(rebasing: line[..<eq]), as: UTF8.self),
            value: String(decoding: UnsafeBufferPointer(rebasing: line[(eq + 1)...]), as: UTF8.self), line: number)
    }

    /// One line holding non-ASCII text, by the `Character` rules of the earlier parser.
    private static func characterLine(_ rawLine: String, number: Int, into sections: inout [CfgSection]) throws {
        var line = String(rawLine.filter { !$0.isWhitespace })
        if let cut = line.firstIndex(where: { $0 == "#" || $0 == ";" }) { line = String(line[..<cut]) }
        if line.isEmpty { return }
        if line.hasPrefix("[") {
            guard line.hasSuffix("]"), line.count > 2 else {
                throw InferenceError(.invalidConfig, "cfg line \(number): malformed section header '\(line)'")
            }
            sections.append(CfgSection(type: String(line.dropFirst().dropLast()).lowercased(), line: number))
            return
        }
        guard let eq = line.firstIndex(of: "="), eq != line.startIndex else {
            throw InferenceError(.invalidConfig, "cfg line \(number): expected key=value, got '\(line)'")
        }
        guard !sections.isEmpty else {
            throw InferenceError(.invalidConfig, "cfg line \(number): option '\(line)' before the first [section]")
        }
        sections[sections.count - 1].append(
            key: String(line[..<eq]), value: String(line[line.index(after: eq)...]), line: number)
    }
}

/// A minimal scanner for the flat XML that S3 answers with (ListObjectsV2 results, errors).
///
/// Foundation's `XMLParser` lives in FoundationXML (libxml2) on Linux; S3's responses need
/// far less: the text of simple elements, with the five named entities and numeric character
/// references decoded. Nested elements of the same name, CDATA and comments are not expected
/// in these documents and are not supported.
package enum XMLScanner {
    /// The decoded text of every `<name>…</name>` element, in document order.
    /// `<name/>` yields an empty string.
    package static func elements(_ name: String, in xml: String) -> [String] {
        var results: [String] = []
        let open = "<" + name
        let close = "</" + name + ">"
        var rest = xml[...]
        while let start = rest.firstRange(of: open) {
            // The tag name must end here: `<Key>` must not match `<KeyCount>`.
            let after = rest[start.upperBound...]
            guard let next = after.first else { break }
            guard next == ">" || next == " " || next == "/" || next == "\t" || next == "\n" || next == "\r",
                let tagEnd = after.firstIndex(of: ">")
            else {
                rest = after
                continue
            }
            if after[after.startIndex..<tagEnd].hasSuffix("/") {
                results.append("")
                rest = after[after.index(after: tagEnd)...]
                continue
            }
            let body = after[after.index(after: tagEnd)...]
            guard let end = body.firstRange(of: close) else { break }
            results.append(decodeEntities(body[..<end.lowerBound]))
            rest = body[end.upperBound...]
        }
        return results
    }

    /// Decodes `&amp; &lt; &gt; &quot; &apos;` and `&#N;` / `&#xH;`. Anything else stays as written.
    package static func decodeEntities(_ text: Substring) -> String {
        guard text.contains("&") else { return String(text) }
        var out = ""
        out.reserveCapacity(text.utf8.count)
        var index = text.startIndex
        while index < text.endIndex {
            let c = text[index]
            guard c == "&", let semicolon = text[index...].prefix(12).firstIndex(of: ";") else {
                out.append(c)
                index = text.index(after: index)
                continue
            }
            let entity = text[text.index(after: index)..<semicolon]
            var decoded: String?
            switch entity {
            case "amp": decoded = "&"
            case "lt": decoded = "<"
            case "gt": decoded = ">"
            case "quot": decoded = "\""
            case "apos": decoded = "'"
            default:
                if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                    decoded = UInt32(entity.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init).map { String($0) }
                } else if entity.hasPrefix("#") {
                    decoded = UInt32(entity.dropFirst(), radix: 10).flatMap(Unicode.Scalar.init).map { String($0) }
                }
            }
            if let decoded {
                out += decoded
                index = text.index(after: semicolon)
            } else {
                out.append(c)
                index = text.index(after: index)
            }
        }
        return out
    }
}

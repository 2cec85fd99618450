/// Just enough `multipart/form-data` (RFC 7578) to take one named part's bytes.
package enum MultipartBody {
    /// The boundary parameter of a `multipart/form-data` content type, unquoted.
    package static func boundary(of contentType: String) -> String? {
        guard let value = parameter("boundary", of: Substring(contentType)) else { return nil }
        return value.isEmpty ? nil : value
    }

    /// The value of parameter `name` (case-insensitive) of a header value, unquoted: the first one
    /// after the value's leading `;`-separated item.
    private static func parameter(_ name: String, of header: Substring) -> String? {
        for parameter in header.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingWhitespace().lowercased() == name else { continue }
            var value = pair[1].trimmingWhitespace()
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 {
                value = String(value.dropFirst().dropLast())
            }
            return value
        }
        return nil
    }

    /// The content of the part whose `Content-Disposition` has `name="<name>"`, or nil.
    package static func part(named name: String, in body: [UInt8], boundary: String) -> [UInt8]? {
        let delimiter = Array(("--" + boundary).utf8)
        let nextDelimiter = Array(("\r\n--" + boundary).utf8)
        guard var cursor = find(delimiter, in: body, from: 0) else { return nil }
        cursor += delimiter.count
        while cursor < body.count {
            // After a delimiter: "--" ends the body, else CRLF then headers.
            if cursor + 1 < body.count, body[cursor] == 0x2D, body[cursor + 1] == 0x2D { return nil }
            guard let lineEnd = find([0x0D, 0x0A], in: body, from: cursor) else { return nil }
            let headersStart = lineEnd + 2
            let headers: String
            let contentStart: Int
            if headersStart + 1 < body.count, body[headersStart] == 0x0D, body[headersStart + 1] == 0x0A {
                headers = ""  // a part without headers
                contentStart = headersStart + 2
            } else {
                guard let headersEnd = find([0x0D, 0x0A, 0x0D, 0x0A], in: body, from: headersStart) else { return nil }
                headers = String(decoding: body[headersStart..<headersEnd], as: UTF8.self)
                contentStart = headersEnd + 4
            }
            guard let contentEnd = find(nextDelimiter, in: body, from: contentStart) else { return nil }
            if disposition(headers, hasName: name) { return Array(body[contentStart..<contentEnd]) }
            cursor = contentEnd + nextDelimiter.count
        }
        return nil
    }

    private static func disposition(_ headers: String, hasName name: String) -> Bool {
        headers.split(separator: "\r\n").contains { line in
            line.lowercased().hasPrefix("content-disposition:") && parameter("name", of: line) == name
        }
    }

    /// First index of `needle` in `haystack` at or after `start`.
    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        return haystack.withUnsafeBufferPointer { h in
            needle.withUnsafeBufferPointer { n in
                let first = n[0]
                var i = start
                let last = h.count - n.count
                while i <= last {
                    if h[i] == first {
                        var j = 1
                        while j < n.count && h[i + j] == n[j] { j += 1 }
                        if j == n.count { return i }
                    }
                    i += 1
                }
                return nil
            }
        }
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}

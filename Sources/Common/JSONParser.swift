/// A strict RFC 8259 recursive-descent parser over bytes, for `JSON.parse`.
struct JSONParser {
    private let bytes: [UInt8]
    private var at = 0
    private let maxDepth: Int

    init(_ bytes: [UInt8], maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    mutating func document() throws(JSONError) -> Any {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { at = 3 }
        let value = try self.value(depth: 0)
        skipSpace()
        guard at == bytes.count else { throw JSONError("unexpected bytes after the JSON value", at: at) }
        return value
    }

    private mutating func skipSpace() {
        while at < bytes.count, bytes[at] == 0x20 || bytes[at] == 0x0A || bytes[at] == 0x0D || bytes[at] == 0x09 {
            at += 1
        }
    }

    private mutating func value(depth: Int) throws(JSONError) -> Any {
        skipSpace()
        guard at < bytes.count else { throw JSONError("unexpected end of JSON", at: at) }
        switch bytes[at] {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return try string()
        case UInt8(ascii: "t"):
            try literal("true")
            return true
        case UInt8(ascii: "f"):
            try literal("false")
            return false
        case UInt8(ascii: "n"):
            try literal("null")
            return JSONNull()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw JSONError("unexpected character '\(Self.show(bytes[at]))'", at: at)
        }
    }

    private mutating func literal(_ word: String) throws(JSONError) {
        let expected = Array(word.utf8)
        let n = expected.count
        guard at + n <= bytes.count, bytes[at..<at + n].elementsEqual(expected) else {
            throw JSONError("invalid literal (expected \(word))", at: at)
        }
        at += n
    }

    private mutating func object(depth: Int) throws(JSONError) -> [String: Any] {
        guard depth <= maxDepth else { throw JSONError("JSON nested deeper than \(maxDepth) levels", at: at) }
        at += 1
        var out: [String: Any] = [:]
        skipSpace()
        if at < bytes.count, bytes[at] == UInt8(ascii: "}") {
            at += 1
            return out
        }
        while true {
            skipSpace()
            guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else {
                throw JSONError("expected a string key", at: at)
            }
            let key = try string()
            skipSpace()
            guard at < bytes.count, bytes[at] == UInt8(ascii: ":") else { throw JSONError("expected ':'", at: at) }
            at += 1
            out[key] = try value(depth: depth)
            skipSpace()
            guard at < bytes.count else { throw JSONError("unexpected end of JSON in an object", at: at) }
            if bytes[at] == UInt8(ascii: ",") {
                at += 1
                continue
            }
            if bytes[at] == UInt8(ascii: "}") {
                at += 1
                return out
            }
            throw JSONError("expected ',' or '}'", at: at)
        }
    }

    private mutating func array(depth: Int) throws(JSONError) -> [Any] {
        guard depth <= maxDepth else { throw JSONError("JSON nested deeper than \(maxDepth) levels", at: at) }
        at += 1
        var out: [Any] = []
        skipSpace()
        if at < bytes.count, bytes[at] == UInt8(ascii: "]") {
            at += 1
            return out
        }
        while true {
            out.append(try value(depth: depth))
            skipSpace()
            guard at < bytes.count else { throw JSONError("unexpected end of JSON in an array", at: at) }
            if bytes[at] == UInt8(ascii: ",") {
                at += 1
                continue
            }
            if bytes[at] == UInt8(ascii: "]") {
                at += 1
                return out
            }
            throw JSONError("expected ',' or ']'", at: at)
        }
    }

    private mutating func string() throws(JSONError) -> String {
        let start = at
        at += 1
        var out: [UInt8] = []
        while true {
            guard at < bytes.count else { throw JSONError("unterminated string", at: start) }
            let b = bytes[at]
            switch b {
            case UInt8(ascii: "\""):
                at += 1
                guard let s = String(validating: out, as: UTF8.self) else {
                    throw JSONError("invalid UTF-8 in a string", at: start)
                }
                return s
            case UInt8(ascii: "\\"):
                at += 1
                guard at < bytes.count else { throw JSONError("unterminated escape", at: at) }
                let e = bytes[at]
                at += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"): out += try unicodeEscape()
                default: throw JSONError("invalid escape '\\\(Self.show(e))'", at: at - 2)
                }
            case 0..<0x20:
                throw JSONError("unescaped control character in a string", at: at)
            default:
                out.append(b)
                at += 1
            }
        }
    }

    private mutating func hex4() throws(JSONError) -> UInt32 {
        guard at + 4 <= bytes.count else { throw JSONError("truncated \\u escape", at: at) }
        var v: UInt32 = 0
        for b in bytes[at..<at + 4] {
            let d: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(b - UInt8(ascii: "A") + 10)
            default: throw JSONError("invalid \\u escape", at: at)
            }
            v = v << 4 | d
        }
        at += 4
        return v
    }

    private mutating func unicodeEscape() throws(JSONError) -> [UInt8] {
        let start = at - 2
        var code = try hex4()
        if (0xD800..<0xDC00).contains(code) {
            guard at + 2 <= bytes.count, bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u") else {
                throw JSONError("lone surrogate in a \\u escape", at: start)
            }
            at += 2
            let low = try hex4()
            guard (0xDC00..<0xE000).contains(low) else { throw JSONError("lone surrogate in a \\u escape", at: start) }
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00..<0xE000).contains(code) {
            throw JSONError("lone surrogate in a \\u escape", at: start)
        }
        guard let scalar = Unicode.Scalar(code) else { throw JSONError("invalid \\u escape", at: start) }
        return Array(String(Character(scalar)).utf8)
    }

    private mutating func number() throws(JSONError) -> Any {
        let start = at
        if bytes[at] == UInt8(ascii: "-") { at += 1 }
        guard at < bytes.count, Self.isDigit(bytes[at]) else { throw JSONError("invalid number", at: start) }
        if bytes[at] == UInt8(ascii: "0") {
            at += 1
        } else {
            while at < bytes.count, Self.isDigit(bytes[at]) { at += 1 }
        }
        var integral = true
        if at < bytes.count, bytes[at] == UInt8(ascii: ".") {
            integral = false
            at += 1
            guard at < bytes.count, Self.isDigit(bytes[at]) else { throw JSONError("invalid number", at: start) }
            while at < bytes.count, Self.isDigit(bytes[at]) { at += 1 }
        }
        if at < bytes.count, bytes[at] == UInt8(ascii: "e") || bytes[at] == UInt8(ascii: "E") {
            integral = false
            at += 1
            if at < bytes.count, bytes[at] == UInt8(ascii: "+") || bytes[at] == UInt8(ascii: "-") { at += 1 }
            guard at < bytes.count, Self.isDigit(bytes[at]) else { throw JSONError("invalid number", at: start) }
            while at < bytes.count, Self.isDigit(bytes[at]) { at += 1 }
        }
        let text = String(decoding: bytes[start..<at], as: UTF8.self)
        if integral, let i = Int(text) { return i }
        guard let d = Double(text) else { throw JSONError("invalid number", at: start) }
        return d
    }

    private static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    private static func show(_ b: UInt8) -> String {
        b >= 0x20 && b < 0x7F ? String(UnicodeScalar(b)) : "\\x" + String(b, radix: 16)
    }
}

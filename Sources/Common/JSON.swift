/// JSON for `[String: Any]` trees, without Foundation (whose `JSONSerialization` brings ICU and
/// 40 MB into the binary). Writing sorts keys and does not escape `/`; parsing gives `String`,
/// `Bool`, `Int` (integers that fit), `Double`, `[Any]`, `[String: Any]` and `JSONNull`, and
/// refuses nesting deeper than `maxDepth`, bad UTF-8, lone surrogates and trailing bytes.
package enum JSON {
    /// The JSON text of `object`. Non-finite numbers become `null` (JSON has no NaN); a value
    /// of a type JSON has no form for is written as its description, quoted.
    package static func bytes(_ object: Any?, pretty: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        write(object, into: &out, pretty: pretty, indent: 0)
        return out
    }

    /// `bytes(object)` as a String.
    package static func string(_ object: Any?, pretty: Bool = false) -> String {
        String(decoding: bytes(object, pretty: pretty), as: UTF8.self)
    }

    package static func parse(_ bytes: some Collection<UInt8>, maxDepth: Int = 512) throws(JSONError) -> Any {
        var parser = JSONParser(Array(bytes), maxDepth: maxDepth)
        return try parser.document()
    }

    private static func write(_ object: Any?, into out: inout [UInt8], pretty: Bool, indent: Int) {
        switch object {
        case nil, is JSONNull: out.append(contentsOf: "null".utf8)
        case let v as Bool: out.append(contentsOf: (v ? "true" : "false").utf8)
        case let v as String: out.append(contentsOf: JSONText.string(v).utf8)
        case let v as Substring: out.append(contentsOf: JSONText.string(String(v)).utf8)
        case let v as Int: out.append(contentsOf: String(v).utf8)
        case let v as Int64: out.append(contentsOf: String(v).utf8)
        case let v as Int32: out.append(contentsOf: String(v).utf8)
        case let v as UInt64: out.append(contentsOf: String(v).utf8)
        case let v as UInt32: out.append(contentsOf: String(v).utf8)
        case let v as UInt: out.append(contentsOf: String(v).utf8)
        case let v as Double: out.append(contentsOf: number(v).utf8)
        case let v as Float: out.append(contentsOf: number(Double(v)).utf8)
        case let v as [String: Any]:
            let keys = v.keys.sorted()
            out.append(UInt8(ascii: "{"))
            for (i, key) in keys.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(&out, pretty, indent + 1)
                out.append(contentsOf: JSONText.string(key).utf8)
                out.append(UInt8(ascii: ":"))
                if pretty { out.append(UInt8(ascii: " ")) }
                write(v[key].flatMap { $0 }, into: &out, pretty: pretty, indent: indent + 1)
            }
            if !keys.isEmpty { newline(&out, pretty, indent) }
            out.append(UInt8(ascii: "}"))
        case let v as [Any]:
            out.append(UInt8(ascii: "["))
            for (i, element) in v.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(&out, pretty, indent + 1)
                write(element, into: &out, pretty: pretty, indent: indent + 1)
            }
            if !v.isEmpty { newline(&out, pretty, indent) }
            out.append(UInt8(ascii: "]"))
        case let v?:
            // `Any` holding an Optional: unwrap it once.
            let mirror = Mirror(reflecting: v)
            if mirror.displayStyle == .optional {
                write(mirror.children.first?.value, into: &out, pretty: pretty, indent: indent)
            } else {
                out.append(contentsOf: JSONText.string(String(describing: v)).utf8)
            }
        }
    }

    private static func newline(_ out: inout [UInt8], _ pretty: Bool, _ indent: Int) {
        guard pretty else { return }
        out.append(UInt8(ascii: "\n"))
        out += [UInt8](repeating: UInt8(ascii: " "), count: 2 * indent)
    }

    /// The shortest text that reads back as `v`; integral values without a fraction.
    private static func number(_ v: Double) -> String {
        guard v.isFinite else { return "null" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }
}

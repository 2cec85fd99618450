extension JSONValue {
    /// The JSON text: object keys sorted, `/` not escaped, integral numbers without a fraction,
    /// non-finite numbers as `null`; `pretty` indents by two spaces.
    package func bytes(pretty: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        write(into: &out, pretty: pretty, indent: 0)
        return out
    }

    /// `bytes(pretty:)` as a String.
    package func text(pretty: Bool = false) -> String {
        String(decoding: bytes(pretty: pretty), as: UTF8.self)
    }

    private func write(into out: inout [UInt8], pretty: Bool, indent: Int) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let v): out.append(contentsOf: (v ? "true" : "false").utf8)
        case .string(let v): out.append(contentsOf: JSONText.string(v).utf8)
        case .number(_, let i?): out.append(contentsOf: String(i).utf8)
        case .number(let v, nil): out.append(contentsOf: Self.number(v).utf8)
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (n, (key, value)) in members.sorted(by: { $0.0 < $1.0 }).enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                Self.newline(&out, pretty, indent + 1)
                out.append(contentsOf: JSONText.string(key).utf8)
                out.append(UInt8(ascii: ":"))
                if pretty { out.append(UInt8(ascii: " ")) }
                value.write(into: &out, pretty: pretty, indent: indent + 1)
            }
            if !members.isEmpty { Self.newline(&out, pretty, indent) }
            out.append(UInt8(ascii: "}"))
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (n, element) in elements.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                Self.newline(&out, pretty, indent + 1)
                element.write(into: &out, pretty: pretty, indent: indent + 1)
            }
            if !elements.isEmpty { Self.newline(&out, pretty, indent) }
            out.append(UInt8(ascii: "]"))
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

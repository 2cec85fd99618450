/// JSON text for hand-written encoders (the function responses build their JSON directly so
/// numbers keep a fixed precision and fields a fixed order).
package enum JSONText {
    /// A quoted, escaped JSON string.
    package static func string(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    /// A number rounded to `decimals` places; a non-finite value becomes `nonFinite` (JSON has no NaN).
    package static func number(_ v: Double, _ decimals: Int, nonFinite: String) -> String {
        guard v.isFinite else { return nonFinite }
        var p = 1.0
        for _ in 0..<decimals { p *= 10 }
        let r = (v * p).rounded() / p
        if r == r.rounded(), abs(r) < 1e15 { return String(Int(r)) }
        return "\(r)"
    }
}

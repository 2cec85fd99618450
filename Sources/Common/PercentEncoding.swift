/// Percent-encoding of URL query items, without Foundation.
package enum PercentEncoding {
    /// Keeps letters, digits and `!$'()*,-./:;=?@_~` (a query item's characters, less `&+#`,
    /// which would split it); every other UTF-8 byte becomes `%XX`.
    package static func queryItem(_ text: String) -> String {
        let kept = Set("!$'()*,-./:;=?@_~".utf8)
        let digits = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for b in text.utf8 {
            let alphanumeric = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
            if alphanumeric || kept.contains(b) {
                out.append(b)
            } else {
                out += [UInt8(ascii: "%"), digits[Int(b >> 4)], digits[Int(b & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

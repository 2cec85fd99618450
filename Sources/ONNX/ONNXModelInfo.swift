import SwiftProtobuf

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What `mscr publish` needs of an ONNX file besides the check that it imports: the class names
/// an exporter wrote into the metadata (Ultralytics: `names` = `{0: 'person', 1: 'bicycle', …}`).
package enum ONNXModelInfo {
    /// The model's `metadata_props`.
    package static func metadata(_ bytes: [UInt8]) throws -> [String: String] {
        let model: Onnx_ModelProto
        do {
            model = try Onnx_ModelProto(serializedBytes: bytes)
        } catch {
            throw ONNXError(
                .invalidModel, "not a readable ONNX model (protobuf decoding failed: \(error))", underlying: error)
        }
        var out: [String: String] = [:]
        for entry in model.metadataProps { out[entry.key] = entry.value }
        return out
    }

    /// Class names from an Ultralytics-style `names` entry: a Python dict literal of integer keys
    /// and quoted strings, in key order; nil when the text is not that (keys must be 0 ..< n).
    package static func classNames(fromNames text: String) -> [String]? {
        var chars = Array(text.unicodeScalars)[...]
        func skipSpace() { while let c = chars.first, c == " " || c == "\n" || c == "\t" { chars.removeFirst() } }
        func expect(_ c: Unicode.Scalar) -> Bool {
            skipSpace()
            guard chars.first == c else { return false }
            chars.removeFirst()
            return true
        }
        guard expect("{") else { return nil }
        var byKey: [Int: String] = [:]
        if expect("}") { return [] }
        while true {
            skipSpace()
            var digits = ""
            while let c = chars.first, c.properties.numericType != nil, c.isASCII {
                digits.unicodeScalars.append(c)
                chars.removeFirst()
            }
            guard let key = Int(digits), expect(":") else { return nil }
            skipSpace()
            guard let quote = chars.first, quote == "'" || quote == "\"" else { return nil }
            chars.removeFirst()
            var value = ""
            while let c = chars.first, c != quote {
                chars.removeFirst()
                if c == "\\", let escaped = chars.first {
                    chars.removeFirst()
                    value.unicodeScalars.append(escaped)
                } else {
                    value.unicodeScalars.append(c)
                }
            }
            guard !chars.isEmpty else { return nil }
            chars.removeFirst()  // the closing quote
            guard byKey[key] == nil else { return nil }
            byKey[key] = value
            if expect("}") { break }
            guard expect(",") else { return nil }
        }
        guard byKey.keys.sorted() == Array(0..<byKey.count) else { return nil }
        return (0..<byKey.count).map { byKey[$0]! }
    }
}

import Common
import Foundation
import Functions
import HTTPTypes
import Testing

@testable import Runtime

/// A seeded generator so failures reproduce.
struct V2SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("V2 protocol: tensor encodings and the request parser")
struct V2TensorCodingTests {
    static func randomData(_ datatype: TensorDataType, count: Int, seed: UInt64) -> TensorData {
        var g = V2SplitMix(state: seed)
        switch datatype {
        case .fp32: return .fp32((0..<count).map { _ in Float.random(in: -1e6...1e6, using: &g) })
        case .fp64: return .fp64((0..<count).map { _ in Double.random(in: -1e12...1e12, using: &g) })
        case .int32: return .int32((0..<count).map { _ in Int32.random(in: .min ... .max, using: &g) })
        case .int64: return .int64((0..<count).map { _ in Int64.random(in: .min ... .max, using: &g) })
        case .uint8: return .uint8((0..<count).map { _ in UInt8.random(in: 0...255, using: &g) })
        case .bool: return .bool((0..<count).map { _ in Bool.random(using: &g) })
        default:
            // Random strings of 0...9 scalars, some outside ASCII, some escapes.
            let alphabet: [Character] = ["a", "Z", "0", "\"", "\\", "\n", "é", "🙂", " ", "\u{01}"]
            return .bytes(
                (0..<count).map { _ in
                    Array(
                        String((0..<Int.random(in: 0...9, using: &g)).map { _ in alphabet.randomElement(using: &g)! })
                            .utf8)
                })
        }
    }

    static let supported: [TensorDataType] = [.fp32, .fp64, .int32, .int64, .uint8, .bool, .bytes]

    @Test("binary encoding round-trips every supported datatype", arguments: supported, [0, 1, 7, 64])
    func binaryRoundTrip(datatype: TensorDataType, count: Int) throws {
        let data = Self.randomData(datatype, count: count, seed: UInt64(count) &* 31 &+ UInt64(datatype.rawValue.count))
        let bytes = V2TensorCoding.encodeBinary(data)
        if let size = datatype.elementSize { #expect(bytes.count == size * count) }
        let back = try V2TensorCoding.decodeBinary(
            bytes[...], datatype: datatype, count: count, name: "t", shape: [count])
        #expect(back == data)
    }

    @Test("JSON encoding round-trips through the parser, floats exactly", arguments: supported, [0, 1, 7, 64])
    func jsonRoundTrip(datatype: TensorDataType, count: Int) throws {
        let data = Self.randomData(datatype, count: count, seed: UInt64(count) &* 17 &+ 5)
        let text = try V2TensorCoding.encodeJSON(data, name: "t")
        let parsed = try JSONValue.parseRequest(Array(text.utf8)[...])
        let back = try V2TensorCoding.decodeJSON(parsed, datatype: datatype, name: "t", base64: false)
        #expect(back == data, "\(text)")
    }

    @Test(
        "base64 decoding matches Foundation on random bytes, padded or not, either alphabet", arguments: Array(0...33))
    func base64(length: Int) {
        var g = V2SplitMix(state: UInt64(length) + 99)
        let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &g) }
        let standard = Data(bytes).base64EncodedString()
        #expect(TensorBase64.encode(bytes) == standard)
        #expect(TensorBase64.decode(Array(standard.utf8)) == bytes)
        let unpadded = standard.replacingOccurrences(of: "=", with: "")
        #expect(TensorBase64.decode(Array(unpadded.utf8)) == bytes)
        let urlSafe = unpadded.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        #expect(TensorBase64.decode(Array(urlSafe.utf8)) == bytes)
    }

    @Test("base64 refuses what is not base64", arguments: ["a", "abc$", "ab=c", "a===", "abcde", "ab==="])
    func notBase64(text: String) {
        #expect(TensorBase64.decode(Array(text.utf8)) == nil)
    }

    @Test("the parser keeps JSON types apart and refuses what RFC 8259 refuses")
    func parser() throws {
        let value = try JSONValue.parseRequest(
            Array(#" {"a": [1, -2.5e3, true, null, "x\u00e9\ud83d\ude42\n"], "b": {}} "#.utf8)[...])
        #expect(value["a"] == .array([.number(1, 1), .number(-2500, nil), .bool(true), .null, .string("xé🙂\n")]))
        #expect(value["b"] == .object([]))
        let invalid = [
            "[1,]", "{\"a\":1,}", "01", "1.", ".5", "NaN", "'a'", "[\"a\u{01}\"]", "\"\\ud800\"", "{\"a\" 1}", "[1] 2",
            "tru", "\"\\x\"", "1e999", String(repeating: "[", count: 100) + String(repeating: "]", count: 100),
        ]
        for text in invalid {
            #expect(throws: FunctionError.self, "\(text)") { try JSONValue.parseRequest(Array(text.utf8)[...]) }
        }
        let bad: [UInt8] = [0x22, 0xFF, 0x22]  // a string that is not UTF-8
        #expect(throws: FunctionError.self) { try JSONValue.parseRequest(bad[...]) }
    }

    @Test("a tensor's element count must match its shape; shapes that overflow are refused")
    func tensorShape() throws {
        #expect(throws: FunctionError.self) { try Tensor(name: "t", shape: [2, 3], data: .fp32([1, 2, 3, 4, 5])) }
        #expect(throws: FunctionError.self) { try Tensor(name: "t", shape: [-1], data: .fp32([])) }
        #expect(Tensor.elementCount([Int.max, 2]) == nil)
        #expect(Tensor.elementCount([3, 0, Int.max]) == 0)
        #expect(Tensor.elementCount([]) == 1)
        let t = try Tensor(name: "t", shape: [2, 3], data: .int32([1, 2, 3, 4, 5, 6]))
        #expect(t.datatype == .int32)
    }
}

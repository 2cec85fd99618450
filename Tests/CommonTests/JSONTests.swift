import Common
import Foundation
import Testing

/// `JSON` against Foundation's `JSONSerialization` (the reference it replaces in the binary).
@Suite struct JSONTests {
    /// A seeded random JSON tree of plain Swift values.
    static func randomTree(_ rng: inout SystemRandomNumberGeneratorSeeded, depth: Int) -> Any {
        let pick = depth > 3 ? rng.next(5) : rng.next(7)
        switch pick {
        case 0: return rng.next(2) == 0
        case 1: return Int(rng.next(2_000_001)) - 1_000_000
        case 2: return Double(Int(rng.next(2_000_001)) - 1_000_000) / 1024.0 + 0.5
        case 3:
            let alphabet = Array("aé\"\\/\n\t\u{1}z 💡漢字")
            return String((0..<rng.next(12)).map { _ in alphabet[rng.next(alphabet.count)] })
        case 4: return JSONNull()
        case 5: return (0..<rng.next(5)).map { _ in randomTree(&rng, depth: depth + 1) }
        default:
            var object: [String: Any] = [:]
            for i in 0..<rng.next(5) { object["k\(i)\(rng.next(100))"] = randomTree(&rng, depth: depth + 1) }
            return object
        }
    }

    /// Compares a parsed tree with one from JSONSerialization (NSNumber, NSNull on its side).
    static func same(_ a: Any, _ b: Any) -> Bool {
        switch (a, b) {
        case (is JSONNull, is NSNull): return true
        case (let x as Bool, let y as NSNumber): return x == y.boolValue
        case (let x as Int, let y as NSNumber): return Double(x) == y.doubleValue
        case (let x as Double, let y as NSNumber): return x == y.doubleValue
        case (let x as String, let y as String): return x == y
        case (let x as [Any], let y as [Any]): return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case (let x as [String: Any], let y as [String: Any]):
            return x.count == y.count && x.allSatisfy { key, value in y[key].map { same(value, $0) } ?? false }
        default: return false
        }
    }

    @Test("written JSON reads back the same through JSONSerialization, and parses back to the same tree")
    func roundTripAgainstFoundation() throws {
        var rng = SystemRandomNumberGeneratorSeeded(seed: 7)
        for _ in 0..<300 {
            let tree = Self.randomTree(&rng, depth: 0)
            for pretty in [false, true] {
                let bytes = JSON.bytes(tree, pretty: pretty)
                let reference = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
                let ours = try JSON.parse(bytes)
                #expect(Self.same(ours, reference), "\(String(decoding: bytes, as: UTF8.self))")
            }
        }
    }

    @Test("keys are sorted and slashes are not escaped, as the old writer options asked")
    func keyOrderAndSlashes() {
        #expect(JSON.string(["b": 1, "a": "x/y", "c": [true, JSONNull()]]) == #"{"a":"x/y","b":1,"c":[true,null]}"#)
        #expect(
            JSON.string(["x": 1.5, "y": Double.nan, "z": Optional<Int>.none as Any]) == #"{"x":1.5,"y":null,"z":null}"#)
    }

    @Test(
        "what JSONSerialization refuses, JSON.parse refuses, with an offset",
        arguments: [
            "", "{", "01", "1.", ".5", "-", "1e", "tru", "nul", "\"abc", "\"\\x\"",
            "\"\\ud800\"", "\"\\udc00x\"", "{\"a\" 1}", "[1 2]", "{1:2}", "\"a\u{1}b\"", "1 2", "[\"\\u12\"]",
        ])
    func refusesMalformed(text: String) throws {
        #expect(throws: JSONError.self) { try JSON.parse(Array(text.utf8)) }
        #expect(throws: (any Error).self) {
            try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        }
    }

    @Test("trailing commas are refused (Foundation's parser lets them through)")
    func trailingCommas() {
        #expect(throws: JSONError.self) { try JSON.parse(Array("[1,]".utf8)) }
        #expect(throws: JSONError.self) { try JSON.parse(Array("{\"a\":1,}".utf8)) }
    }

    @Test("invalid UTF-8 inside a string is refused")
    func invalidUTF8() {
        #expect(throws: JSONError.self) { try JSON.parse([0x22, 0xC3, 0x28, 0x22]) }
    }

    @Test("nesting past the limit is refused, not a stack overflow")
    func depthLimit() throws {
        let deep =
            Array(repeating: UInt8(ascii: "["), count: 100_000) + Array(repeating: UInt8(ascii: "]"), count: 100_000)
        let error = try #require(throws: JSONError.self) { try JSON.parse(deep) }
        #expect(error.message.contains("deeper than 512"))
        let ok = Array(repeating: UInt8(ascii: "["), count: 512) + Array(repeating: UInt8(ascii: "]"), count: 512)
        _ = try JSON.parse(ok)
    }

    @Test("numbers: integers stay Int, others Double; escapes decode")
    func scalars() throws {
        #expect(try JSON.parse(Array("123".utf8)) as? Int == 123)
        #expect(try JSON.parse(Array("-0.25e2".utf8)) as? Double == -25)
        #expect(try JSON.parse(Array("1e400".utf8)) as? Double == .infinity)
        #expect(try JSON.parse(Array(#""\ud83d\udca1 \u00e9\n""#.utf8)) as? String == "💡 é\n")
        #expect(try JSON.parse(Array("99999999999999999999".utf8)) as? Double == 1e20)
    }
}

/// A small deterministic generator for the tests (splitmix64).
struct SystemRandomNumberGeneratorSeeded {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next(_ bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(bound))
    }
}

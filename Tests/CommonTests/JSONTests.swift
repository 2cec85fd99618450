import Common
import Foundation
import Testing

/// `JSONValue` against Foundation's `JSONSerialization` (the reference it replaces in the binary).
@Suite struct JSONTests {
    /// A seeded random JSON tree.
    static func randomTree(_ rng: inout SystemRandomNumberGeneratorSeeded, depth: Int) -> JSONValue {
        let pick = depth > 3 ? rng.next(5) : rng.next(7)
        switch pick {
        case 0: return .bool(rng.next(2) == 0)
        case 1: return .int(Int(rng.next(2_000_001)) - 1_000_000)
        case 2: return .double(Double(Int(rng.next(2_000_001)) - 1_000_000) / 1024.0 + 0x1p-12)
        case 3:
            let alphabet = Array("aé\"\\/\n\t\u{1}z 💡漢字")
            return .string(String((0..<rng.next(12)).map { _ in alphabet[rng.next(alphabet.count)] }))
        case 4: return .null
        case 5: return .array((0..<rng.next(5)).map { _ in randomTree(&rng, depth: depth + 1) })
        default:
            var object: [String: JSONValue] = [:]
            for i in 0..<rng.next(5) { object["k\(i)\(rng.next(100))"] = randomTree(&rng, depth: depth + 1) }
            return .object(object.map { ($0.key, $0.value) })
        }
    }

    /// Compares a parsed value with one from JSONSerialization (NSNumber, NSNull on its side).
    static func same(_ a: JSONValue, _ b: Any) -> Bool {
        switch (a, b) {
        case (.null, is NSNull): return true
        case (.bool(let x), let y as NSNumber): return x == y.boolValue
        case (.number(let x, _), let y as NSNumber): return x == y.doubleValue
        case (.string(let x), let y as String): return x == y
        case (.array(let x), let y as [Any]): return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case (.object(let x), let y as [String: Any]):
            return x.count == y.count && x.allSatisfy { key, value in y[key].map { same(value, $0) } ?? false }
        default: return false
        }
    }

    /// The same tree with every object's members sorted (the writer sorts them).
    static func sorted(_ v: JSONValue) -> JSONValue {
        switch v {
        case .array(let a): return .array(a.map(sorted))
        case .object(let m): return .object(m.sorted { $0.0 < $1.0 }.map { ($0.0, sorted($0.1)) })
        default: return v
        }
    }

    @Test("written JSON reads back the same through JSONSerialization, and parses back to the same value")
    func roundTripAgainstFoundation() throws {
        var rng = SystemRandomNumberGeneratorSeeded(seed: 7)
        for _ in 0..<300 {
            let tree = Self.randomTree(&rng, depth: 0)
            for pretty in [false, true] {
                let bytes = tree.bytes(pretty: pretty)
                let reference = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
                let ours = try JSONValue.parse(bytes)
                #expect(Self.same(ours, reference), "\(String(decoding: bytes, as: UTF8.self))")
                #expect(ours == Self.sorted(tree), "\(String(decoding: bytes, as: UTF8.self))")
            }
        }
    }

    @Test("keys are sorted, slashes are not escaped, non-finite numbers and nil optionals are null")
    func keyOrderAndSlashes() {
        let object: JSONValue = ["b": 1, "a": "x/y", "c": [true, nil]]
        #expect(object.text() == #"{"a":"x/y","b":1,"c":[true,null]}"#)
        let numbers: JSONValue = ["x": 1.5, "y": Double.nan.json, "z": Optional<Int>.none.json, "w": 2.0]
        #expect(numbers.text() == #"{"w":2,"x":1.5,"y":null,"z":null}"#)
        #expect(JSONValue.int(Int64.max).text() == "9223372036854775807")
    }

    @Test(
        "what JSONSerialization refuses, JSONValue.parse refuses, with an offset",
        arguments: [
            "", "{", "01", "1.", ".5", "-", "1e", "tru", "nul", "\"abc", "\"\\x\"",
            "\"\\ud800\"", "\"\\udc00x\"", "{\"a\" 1}", "[1 2]", "{1:2}", "\"a\u{1}b\"", "1 2", "[\"\\u12\"]",
        ])
    func refusesMalformed(text: String) throws {
        #expect(throws: JSONError.self) { try JSONValue.parse(Array(text.utf8)) }
        #expect(throws: (any Error).self) {
            try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        }
    }

    @Test("trailing commas, duplicate names and numbers beyond Double are refused")
    func stricterThanFoundation() {
        #expect(throws: JSONError.self) { try JSONValue.parse(Array("[1,]".utf8)) }
        #expect(throws: JSONError.self) { try JSONValue.parse(Array("{\"a\":1,}".utf8)) }
        #expect(throws: JSONError.self) { try JSONValue.parse(Array("{\"a\":1,\"a\":2}".utf8)) }
        #expect(throws: JSONError.self) { try JSONValue.parse(Array("1e400".utf8)) }
    }

    @Test("invalid UTF-8 inside a string is refused")
    func invalidUTF8() {
        #expect(throws: JSONError.self) { try JSONValue.parse([0x22, 0xC3, 0x28, 0x22]) }
    }

    @Test("nesting past the limit is refused, not a stack overflow")
    func depthLimit() throws {
        let deep =
            Array(repeating: UInt8(ascii: "["), count: 100_000) + Array(repeating: UInt8(ascii: "]"), count: 100_000)
        let error = try #require(throws: JSONError.self) { try JSONValue.parse(deep) }
        #expect(error.message.contains("deeper than 512"))
        let ok = Array(repeating: UInt8(ascii: "["), count: 512) + Array(repeating: UInt8(ascii: "]"), count: 512)
        _ = try JSONValue.parse(ok)
    }

    @Test("numbers keep whether they were integers; escapes decode; a byte order mark is skipped")
    func scalars() throws {
        #expect(try JSONValue.parse(Array("123".utf8)).intValue == 123)
        #expect(try JSONValue.parse(Array("123.0".utf8)).intValue == nil)
        #expect(try JSONValue.parse(Array("-0.25e2".utf8)).doubleValue == -25)
        #expect(try JSONValue.parse(Array(#""\ud83d\udca1 \u00e9\n""#.utf8)).stringValue == "💡 é\n")
        #expect(try JSONValue.parse(Array("99999999999999999999".utf8)) == .number(1e20, nil))
        #expect(try JSONValue.parse([0xEF, 0xBB, 0xBF] + Array("[1]".utf8)) == [1])
    }
}

/// A small deterministic generator for the tests (splitmix64), so a failure can be replayed.
struct SystemRandomNumberGeneratorSeeded: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func next(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}

/// The project's one JSON value: what every dynamic JSON document is parsed into and written
/// from (typed documents use `Codable`). Numbers keep whether their text was an integer, objects
/// keep their members' order, and the parser bounds depth and refuses what RFC 8259 refuses,
/// all without Foundation's `JSONSerialization` (which brings ICU and 40 MB into the binary).
package enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// A number and, when it is an integer that fits, its exact integer value.
    case number(Double, Int64?)
    case string(String)
    case array([JSONValue])
    /// Members in order (the parser rejects duplicate names; the writer sorts them).
    case object([(String, JSONValue)])

    package static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x, let i), .number(let y, let j)): return x == y && i == j
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// An integer.
    package static func int(_ v: some BinaryInteger) -> JSONValue {
        guard let exact = Int64(exactly: v) else { return .number(Double(v), nil) }
        return .number(Double(exact), exact)
    }

    /// A floating-point number (written as `null` when not finite: JSON has no NaN).
    package static func double(_ v: Double) -> JSONValue { .number(v, nil) }

    /// `value` or `null`.
    package static func optional(_ value: JSONValue?) -> JSONValue { value ?? .null }

    /// The member `key` of an object (nil for other values or a missing key).
    package subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    /// The object's members, or nil.
    package var members: [(String, JSONValue)]? {
        if case .object(let m) = self { return m }
        return nil
    }

    /// The array's elements, or nil.
    package var elements: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The string, or nil.
    package var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The number, or nil.
    package var doubleValue: Double? {
        if case .number(let d, _) = self { return d }
        return nil
    }

    /// The number when its text was an integer that fits in `Int`, or nil.
    package var intValue: Int? {
        if case .number(_, let i?) = self { return Int(exactly: i) }
        return nil
    }

    /// The boolean, or nil.
    package var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// A short name of the value's JSON type, for error messages.
    package var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// Parses one JSON document (RFC 8259; a UTF-8 byte order mark, and whitespace around the
    /// value, allowed; nothing after it). Nesting deeper than `maxDepth`, invalid UTF-8, lone
    /// surrogates and numbers beyond `Double` are refused with the byte offset.
    package static func parse(_ bytes: some Collection<UInt8>, maxDepth: Int = 512) throws(JSONError) -> JSONValue {
        var parser = JSONValueParser(bytes: ArraySlice(bytes), maxDepth: maxDepth)
        return try parser.document()
    }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    package init(nilLiteral: ()) { self = .null }
    package init(booleanLiteral value: Bool) { self = .bool(value) }
    package init(integerLiteral value: Int) { self = .int(value) }
    package init(floatLiteral value: Double) { self = .double(value) }
    package init(stringLiteral value: String) { self = .string(value) }
    package init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    package init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(elements) }
}

/// A Swift value with one JSON form, so dynamic documents read `["name": name.json]`.
package protocol JSONConvertible {
    /// The value as JSON.
    var json: JSONValue { get }
}

extension JSONValue: JSONConvertible {
    package var json: JSONValue { self }
}

extension String: JSONConvertible {
    package var json: JSONValue { .string(self) }
}

extension Substring: JSONConvertible {
    package var json: JSONValue { .string(String(self)) }
}

extension Bool: JSONConvertible {
    package var json: JSONValue { .bool(self) }
}

extension Int: JSONConvertible {
    package var json: JSONValue { .int(self) }
}

extension Int64: JSONConvertible {
    package var json: JSONValue { .int(self) }
}

extension UInt64: JSONConvertible {
    package var json: JSONValue { .int(self) }
}

extension Double: JSONConvertible {
    package var json: JSONValue { .double(self) }
}

extension Float: JSONConvertible {
    package var json: JSONValue { .double(Double(self)) }
}

extension Optional: JSONConvertible where Wrapped: JSONConvertible {
    /// The wrapped value's JSON, or `null`.
    package var json: JSONValue { self?.json ?? .null }
}

extension Array: JSONConvertible where Element: JSONConvertible {
    package var json: JSONValue { .array(map(\.json)) }
}

extension Dictionary: JSONConvertible where Key == String, Value: JSONConvertible {
    package var json: JSONValue { .object(map { ($0.key, $0.value.json) }) }
}

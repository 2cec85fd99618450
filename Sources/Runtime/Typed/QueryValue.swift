import Functions

/// One query parameter's text as a single value, for input fields of a type that decodes from
/// one (string-backed enums, wrappers of a number).
struct QueryValue: Decoder, SingleValueDecodingContainer {
    let text: String
    let key: any CodingKey
    var codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(text: String, key: any CodingKey, codingPath: [any CodingKey]) {
        self.text = text
        self.key = key
        self.codingPath = codingPath
    }

    /// `true`/`false`, `1`/`0`, `yes`/`no` (any case).
    static func bool(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true", "1", "yes": true
        case "false", "0", "no": false
        default: nil
        }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> { throw nested() }
    func unkeyedContainer() throws -> any UnkeyedDecodingContainer { throw nested() }
    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    func decodeNil() -> Bool { false }

    /// "an integer", with its range when narrower than 64 bits or unsigned.
    static func integerDescription<T: FixedWidthInteger>(_ type: T.Type) -> String {
        T.bitWidth >= 64 && T.isSigned ? "an integer" : "an integer in \(T.min)...\(T.max)"
    }

    func parse<T>(_ what: String, _ convert: (String) -> T?) throws -> T {
        guard let value = convert(text) else {
            throw FunctionError(.invalidInput, "query parameter '\(key.stringValue)' must be \(what), got '\(text)'")
        }
        return value
    }

    func decode(_ type: String.Type) throws -> String { text }
    func decode(_ type: Bool.Type) throws -> Bool { try parse("true or false", Self.bool) }
    func decode(_ type: Double.Type) throws -> Double {
        try parse("a number") { Double($0).flatMap { $0.isFinite ? $0 : nil } }
    }
    func decode(_ type: Float.Type) throws -> Float {
        try parse("a number") { Float($0).flatMap { $0.isFinite ? $0 : nil } }
    }
    func decode(_ type: Int.Type) throws -> Int { try integer() }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer() }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer() }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer() }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer() }
    func decode(_ type: UInt.Type) throws -> UInt { try integer() }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer() }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer() }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer() }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer() }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try T(from: self) }

    func integer<T: FixedWidthInteger>() throws -> T { try parse(QueryValue.integerDescription(T.self)) { T($0) } }

    private func nested() -> FunctionError {
        FunctionError(
            .invalidInput,
            "'\(key.stringValue)' is not a single value, so it cannot come from the query; send application/json")
    }
}

import Functions
import MSCRFunctions
import Synchronization

/// Decodes a function's `Input` from the query string and an image body: a field of type
/// ``EncodedImage`` takes the image, every other field its query parameter (`String`, `Bool`,
/// integers, `Double`, `Float`, their optionals, and string-backed enums). A missing or bad
/// value is a 400 naming the parameter.
final class QueryDecoder: Decoder {
    /// What decoding took, to tell "this input has no image field" (415) apart.
    final class Usage: Sendable {
        private let taken = Atomic<Bool>(false)
        var imageTaken: Bool { taken.load(ordering: .relaxed) }
        func takeImage() { taken.store(true, ordering: .relaxed) }
    }

    let query: [String: String]
    /// Reads the image when a field first asks for it (an image-only input reads the body then,
    /// so its other fields are checked first).
    private let imageSource: () throws -> [UInt8]?
    private var read: [UInt8]??
    let usage = Usage()
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(query: [String: String], image: [UInt8]?) {
        self.query = query
        self.imageSource = { image }
    }

    init(query: [String: String], imageSource: @escaping () throws -> [UInt8]?) {
        self.query = query
        self.imageSource = imageSource
    }

    /// The image, read once.
    func image() throws -> [UInt8]? {
        if let read { return read }
        let bytes = try imageSource()
        read = .some(bytes)
        return bytes
    }

    /// Decodes the whole input (an input that is itself an ``EncodedImage`` takes the image).
    func decodeTopLevel<T: Decodable>(_ type: T.Type) throws -> T {
        if let value = try imageValue(T.self, name: "input") { return value }
        return try T(from: self)
    }

    /// The image as `T` when `T` is ``EncodedImage``, nil for other types.
    func imageValue<T>(_ type: T.Type, name: String) throws -> T? {
        guard T.self == EncodedImage.self else { return nil }
        guard let image = try image() else {
            throw FunctionError(
                .invalidInput,
                "'\(name)' is an image: send it as the body (image/jpeg, image/png) or a multipart 'file' part")
        }
        usage.takeImage()
        return EncodedImage(bytes: image) as? T
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(QueryContainer<Key>(decoder: self))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw FunctionError(
            .invalidInput, "this function's input is an object of named fields; send application/json for lists")
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        throw FunctionError(.invalidInput, "this function's input is an object of named fields; send application/json")
    }
}

/// The fields of the input: query parameters by name.
struct QueryContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: QueryDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }
    var allKeys: [Key] { decoder.query.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { decoder.query[key.stringValue] != nil }
    func decodeNil(forKey key: Key) throws -> Bool { decoder.query[key.stringValue] == nil }

    /// The raw text of `key`, or a 400 saying it is required.
    func text(_ key: Key) throws -> String {
        guard let value = decoder.query[key.stringValue] else {
            throw FunctionError(.invalidInput, "query parameter '\(key.stringValue)' is required")
        }
        return value
    }

    func parse<T>(_ key: Key, _ what: String, _ convert: (String) -> T?) throws -> T {
        let raw = try text(key)
        guard let value = convert(raw) else {
            throw FunctionError(.invalidInput, "query parameter '\(key.stringValue)' must be \(what), got '\(raw)'")
        }
        return value
    }

    func decode(_ type: String.Type, forKey key: Key) throws -> String { try text(key) }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try parse(key, "true or false", QueryValue.bool) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
        try parse(key, "a number") { Double($0).flatMap { $0.isFinite ? $0 : nil } }
    }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float {
        try parse(key, "a number") { Float($0).flatMap { $0.isFinite ? $0 : nil } }
    }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try integer(key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try integer(key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try integer(key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try integer(key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try integer(key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try integer(key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try integer(key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try integer(key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try integer(key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try integer(key) }

    func integer<T: FixedWidthInteger>(_ key: Key) throws -> T {
        try parse(key, QueryValue.integerDescription(T.self)) { T($0) }
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        if T.self == EncodedImage.self {
            return try decoder.image() == nil ? nil : try decode(T.self, forKey: key)
        }
        guard contains(key) else { return nil }
        return try decode(T.self, forKey: key)
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        if let image = try decoder.imageValue(T.self, name: key.stringValue) { return image }
        return try T(from: QueryValue(text: try text(key), key: key, codingPath: codingPath + [key]))
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        throw nested(key)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { throw nested(key) }
    func superDecoder() throws -> any Decoder {
        throw FunctionError(.invalidInput, "inheritance is not supported in query input")
    }
    func superDecoder(forKey key: Key) throws -> any Decoder { throw nested(key) }

    private func nested(_ key: Key) -> FunctionError {
        FunctionError(
            .invalidInput,
            "'\(key.stringValue)' is not a single value, so it cannot come from the query; send application/json")
    }
}

/// One `[section]` of a Darknet cfg file with its `key=value` options. Lookups record which
/// keys a layer used, so the parser can warn about the rest.
package struct CfgSection: Sendable {
    package struct Option: Sendable {
        package var key: String
        package var value: String
        package var line: Int
    }

    /// Section name without brackets, e.g. `convolutional`.
    package let type: String
    /// 1-based line of the `[type]` header.
    package let line: Int
    package private(set) var options: [Option] = []
    package private(set) var used: Set<String> = []

    package init(type: String, line: Int) {
        self.type = type
        self.line = line
    }

    package mutating func append(key: String, value: String, line: Int) {
        options.append(Option(key: key, value: value, line: line))
    }

    /// Options no layer asked for, in file order, first occurrence of each key.
    package var unusedOptions: [Option] {
        var seen: Set<String> = []
        return options.filter { !used.contains($0.key) && seen.insert($0.key).inserted }
    }

    /// Raw value of `key` (Darknet takes the first occurrence), marking it used.
    package mutating func raw(_ key: String) -> Option? {
        used.insert(key)
        return options.first { $0.key == key }
    }

    /// Whether the section sets `key` (does not mark it used).
    package func has(_ key: String) -> Bool { options.contains { $0.key == key } }

    package mutating func int(_ key: String, default value: Int? = nil) throws -> Int {
        guard let option = raw(key) else {
            guard let value else { throw missing(key) }
            return value
        }
        if let v = Int(option.value) { return v }
        if let d = Double(option.value), d == d.rounded(), abs(d) < 1e15 { return Int(d) }
        throw bad(option, "an integer")
    }

    package mutating func float(_ key: String, default value: Float? = nil) throws -> Float {
        guard let option = raw(key) else {
            guard let value else { throw missing(key) }
            return value
        }
        guard let v = Float(option.value), v.isFinite else { throw bad(option, "a number") }
        return v
    }

    package mutating func string(_ key: String, default value: String? = nil) throws -> String {
        guard let option = raw(key) else {
            guard let value else { throw missing(key) }
            return value
        }
        return option.value
    }

    package mutating func intList(_ key: String) throws -> [Int]? {
        guard let option = raw(key) else { return nil }
        return try option.value.split(separator: ",").filter { !$0.isEmpty }.map {
            guard let v = Int($0) else { throw bad(option, "a comma-separated list of integers") }
            return v
        }
    }

    package mutating func floatList(_ key: String) throws -> [Float]? {
        guard let option = raw(key) else { return nil }
        return try option.value.split(separator: ",").filter { !$0.isEmpty }.map {
            guard let v = Float($0), v.isFinite else { throw bad(option, "a comma-separated list of numbers") }
            return v
        }
    }

    /// An `invalidConfig` error naming this section and its line.
    package func error(_ message: String) -> InferenceError {
        InferenceError(.invalidConfig, "cfg line \(line) [\(type)]: \(message)")
    }

    private func missing(_ key: String) -> InferenceError {
        error("missing required key '\(key)'")
    }

    private func bad(_ option: Option, _ what: String) -> InferenceError {
        InferenceError(
            .invalidConfig, "cfg line \(option.line) [\(type)]: '\(option.key)=\(option.value)' is not \(what)")
    }
}
